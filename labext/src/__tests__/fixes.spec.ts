import {
  interruptedNote,
  interruptedStatus,
  overwriteConfirmation,
  rerunCode,
  rerunFinished,
  resumeActions,
  resumingPlaceholder,
  resumingStatus,
  sidebarFix,
  sidebarReply,
  sidebarSummary,
  sidebarWarning
} from '../fixes';

describe('fixes phrased for the sidebar', () => {
  it('sends a user to the settings instead of a %kenkyu command', () => {
    expect(sidebarFix('switch with %kenkyu provider openai --model gpt-4o, or install the extra')).toEqual({
      text: 'choose the provider openai and the model gpt-4o in Settings → Settings Editor → kenkyu chat',
      settings: true
    });
    expect(sidebarFix('%kenkyu provider openai --model …')).toMatchObject({ text: expect.stringContaining('and a model'), settings: true });
    expect(sidebarFix('allow tools with `%kenkyu approval auto`.')).toMatchObject({ text: expect.stringMatching(/^set approval to auto/), settings: true });
    expect(sidebarFix('raise the limit with %kenkyu budget --seconds')).toEqual({
      text: 'raise the limit with %kenkyu budget --seconds (in a notebook cell)', settings: false
    });
    expect(sidebarFix("the tool's result says how to resume it").text).toMatch(/^press Resume on its card/);
    expect(sidebarFix('check the path')).toEqual({ text: 'check the path', settings: false });
  });

  it('gives a model error without a fix one a person can act on (rephrase, or a stronger model)', () => {
    // The embedded model's tool call did not parse: the provider sent no fix, and "Ended with an error" alone
    // left the first question of a new user without a next step.
    const fix = sidebarFix('', 'provider');
    expect(fix.settings).toBe(true);
    expect(fix.text).toMatch(/^ask again in other words, naming the file/);
    expect(fix.text).toContain('a stronger model in Settings → Settings Editor → kenkyu chat');
    expect(sidebarFix('', 'kernel')).toEqual({ text: '', settings: false }); // only the model's own errors
  });

  it("says an interrupted card's summary without the notebook's resume=True, the CLI or the code", () => {
    const resume = "run = kenkyu.tools.md.run(\n    structure='villin_1vii.pdb',\n    resume=True,\n)\nrun";
    // The kernel's text, as the sidebar showed it on a Stop (seen by a newcomer): the status twice, the CLI,
    // and a dangling "Resume with:" over a folded copy of the Resume button's code.
    const summary =
      'interrupted — resumable (interrupted by the user). Run in md_runs/villin_1vii_implicit interrupted; its last ' +
      'checkpoint is at equilibration step 0. Continue it with the same call plus resume=True (CLI: kenkyu md run ... ' +
      `--resume).\nResume with:\n${resume}`;
    expect(sidebarSummary(summary, 'interrupted', resume)).toBe(
      'Interrupted by the user. Run in md_runs/villin_1vii_implicit interrupted; its last checkpoint is at equilibration step 0.'
    );
    expect(sidebarSummary(summary, 'interrupted', '')).toBe(summary); // no Resume button: the code is the way on
    expect(sidebarSummary('2 ps in 40 s', 'ok', resume)).toBe('2 ps in 40 s');
  });

  it('says a run in a new folder starts there, not that it resumes (newcomer r10)', () => {
    const summary =
      "RunExistsError: md_runs/villin_1vii_implicit holds a 300 K, 2 ps implicit-solvent run (finished), made with other " +
      "settings (ps: run has 2.0, call has 40.0). ... so neither is offered: run in a new folder, " +
      "out='md_runs/villin_1vii_implicit_40ps' (a folder not made yet).";
    expect(resumingStatus(summary)).toBe('running in a new folder');
    expect(resumingPlaceholder('md_run', summary)).toBe(
      'Waiting for md_run in its new folder to finish (Stop on its card ends it)'
    );
    expect(rerunFinished(summary)).toBe('finished in a new folder');
    // An interrupted run's Resume still resumes.
    expect(resumingStatus('interrupted — resumable (interrupted by the user)')).toBe('resuming');
    expect(rerunFinished('interrupted — resumable (interrupted by the user)')).toBe('resumed and finished');
  });

  it('does not promise kept work on a card whose run stopped before its first checkpoint', () => {
    const resume = "run_2 = kenkyu.tools.md.run(\n    structure='5dfr_minimized.pdb',\n    resume=True,\n)\nrun_2";
    // The kernel's text on a Stop 47 s into a DHFR run (seen by a newcomer): the card read "interrupted —
    // resumable", "nothing was kept" and "the work so far is kept. Resume continues from the last checkpoint".
    const summary =
      'interrupted — resumable (interrupted by the user). Run in md_runs/5dfr_minimized_implicit interrupted ' +
      'before its first checkpoint; nothing was kept. Start it again with the same call (resume=True works too: it ' +
      `starts afresh).\nResume with:\n${resume}`;
    expect(interruptedStatus(summary)).toBe('interrupted — nothing kept');
    const note = interruptedNote(summary, resume);
    expect(note).toContain('nothing was kept');
    expect(note).not.toMatch(/kept\. Resume|work so far is kept|last checkpoint/);
    expect(resumeActions(resume, 'interrupted', summary)).toEqual([{ label: 'Start again', code: resume }]);
    expect(resumingPlaceholder('md_run', summary)).toBe('Waiting for the restarted md_run to finish (Stop on its card ends it)');
    expect(sidebarSummary(summary, 'interrupted', resume)).toBe(
      'Interrupted by the user. Run in md_runs/5dfr_minimized_implicit interrupted before its first checkpoint; ' +
        'nothing was kept.'
    );
    // The kernel's text since it says "nothing kept" itself (a DHFR run stopped 13 s in, seen by a newcomer): the
    // card read "interrupted — nothing kept" twice and its summary ended on "Start it again with:".
    const now =
      'interrupted — nothing kept (interrupted by the user). Run in md_runs/ecoli_dhfr_implicit interrupted before ' +
      `its first checkpoint; nothing was kept.\nStart it again with:\n${resume}`;
    expect(sidebarSummary(now, 'interrupted', resume)).toBe(
      'Interrupted by the user. Run in md_runs/ecoli_dhfr_implicit interrupted before its first checkpoint; nothing was kept.'
    );
    expect(resumeActions(resume, 'interrupted', now)).toEqual([{ label: 'Start again', code: resume }]);
    // A coarse-grained run has no checkpoints and no resume: its note does not mention one.
    const cg =
      'interrupted — nothing kept (interrupted by the user). Coarse-grained run md_runs/x interrupted at 99 of 2000 ps; ' +
      'nothing was kept (a coarse-grained run keeps its files when it finishes).';
    expect(interruptedNote(cg, '')).toBe('Stopped before it finished, so nothing was kept. Run its cell again to start over.');
    // It cannot resume, so its card offers its own call again (it had no button at all).
    const call = "cg_run = kenkyu.tools.md.coarse_grained(structure='ecoli_dhfr.pdb', ps=2000.0, seed=7)\ncg_run";
    const rerun = rerunCode({ resume: '', status: 'interrupted', summary: cg, code: call });
    expect(rerun).toBe(call);
    expect(resumeActions(rerun, 'interrupted', cg)).toEqual([{ label: 'Start again', code: call }]);
    expect(resumingStatus(cg)).toBe('restarting'); // its head while the call runs again (it read "resuming")
    expect(resumingStatus('interrupted — resumable (x). Run in md_runs/v interrupted; its last checkpoint is at 1 ps.')).toBe('resuming');
    expect(interruptedNote(cg, rerun)).toBe('Stopped before it finished, so nothing was kept. Start again runs the same call in a new cell.');
    // A stopped run that kept its work and cannot resume gets no button: running the call again would lose it.
    expect(rerunCode({ resume: '', status: 'interrupted', summary: 'interrupted — not resumable (x)', code: call })).toBe('');
    const cgKernel = `${cg} Start it again with the same call (a shorter ps finishes sooner).`;
    expect(sidebarSummary(cgKernel, 'interrupted', '')).toBe(
      'Interrupted by the user. Coarse-grained run md_runs/x interrupted at 99 of 2000 ps; nothing was kept (a ' +
        'coarse-grained run keeps its files when it finishes).'
    );
    // A run stopped after a checkpoint still reads resumable, with its Resume button.
    const kept = 'interrupted — resumable (interrupted by the user). Run in md_runs/v interrupted; its last checkpoint is at 1 ps.';
    expect(interruptedStatus(kept)).toBe('interrupted — resumable');
    expect(interruptedNote(kept, resume)).toContain('Resume continues from the last checkpoint');
    expect(resumeActions(resume, 'interrupted', kept)).toEqual([{ label: 'Resume', code: resume }]);
    expect(resumingPlaceholder('md_run', kept)).toContain('Waiting for the resumed md_run');
    // A tool the kernel cannot continue: one story on the card, no resume=True under "not resumable" (newcomer r8).
    const notResumable = 'interrupted — not resumable (interrupted by the user). Scan stopped at 3 of 9. Run the cell again to start over.';
    expect(interruptedStatus(notResumable)).toBe('interrupted — not resumable');
    expect(interruptedNote(notResumable, '')).toBe(
      'Stopped mid-run. This tool cannot continue where it stopped: run its cell again to start over.'
    );
    expect(interruptedNote(notResumable, '')).not.toContain('resume=True');
  });

  it("points a reply's stronger-model advice at the settings", () => {
    const reply = 'or ask *what can you do?*. For open questions, use a stronger model: `%kenkyu provider openai --model ...`.';
    expect(sidebarReply(reply)).toBe(
      'or ask *what can you do?*. For open questions, choose a stronger model in Settings → Settings Editor → kenkyu chat.'
    );
    expect(sidebarReply('The backbone RMSD stays below 2 Å.')).toBe('The backbone RMSD stays below 2 Å.');
  });

  it('offers Resume and Overwrite buttons where the fix is resume=True or overwrite=True', () => {
    const resume = "run = kenkyu.tools.md.run(structure='villin.pdb', ps=2, resume=True)";
    expect(resumeActions(resume, 'interrupted', '')).toEqual([{ label: 'Resume', code: resume }]);
    expect(resumeActions(resume, 'failed', 'md_runs/villin already exists. Pass resume=True to continue it, overwrite=True to delete it')).toEqual([
      { label: 'Resume', code: resume },
      { label: 'Overwrite and rerun', code: "run = kenkyu.tools.md.run(structure='villin.pdb', ps=2, overwrite=True)" }
    ]);
    expect(resumeActions('run = md.run(overwrite=True)', 'failed', '')).toEqual([{ label: 'Overwrite and rerun', code: 'run = md.run(overwrite=True)' }]);
    expect(resumeActions('', 'failed', 'anything')).toEqual([]);
  });

  it('offers a stopped Gō run, which kept its frames, as run again from 0 ps (newcomer r8 O3)', () => {
    const code = "cg = kenkyu.tools.md.coarse_grained(structure='hp35.pdb', ps=1000.0, seed=5, resume=True)";
    const summary =
      'interrupted — frames kept, reruns from 0 ps (interrupted by the user). Coarse-grained run md_runs/hp35_cg_300K_seed5 ' +
      'interrupted at 174 of 1000 ps; its 348 frames are kept (cg.json says interrupted)';
    expect(resumeActions(code, 'interrupted', summary)).toEqual([{ label: 'Run again from 0 ps', code }]);
  });

  it('offers only a new folder when the folder holds a run made with other settings (newcomer r8 O6)', () => {
    const code = "run = kenkyu.tools.md.run(structure='hp35.pdb', temperature_k=360.0, out='md_runs/hp35_implicit_360K', resume=True)";
    const summary =
      "ERROR: RunExistsError: md_runs/hp35_implicit holds a 300 K, 2 ps implicit-solvent run (finished), made with other " +
      "settings (temperature_k: run has 300.0, call has 360.0). Resuming it would refuse those settings and starting over " +
      "would delete that run, so neither is offered: run in a new folder, out='md_runs/hp35_implicit_360K' (a folder not made yet).";
    expect(resumeActions(code, 'failed', summary)).toEqual([{ label: 'Run in a new folder', code }]);
  });

  it('phrases approval warnings as the choices on the card, keeping the folder named', () => {
    const exists =
      'md_runs/villin_1vii_implicit already exists: the call will be refused as it stands; approve it with ' +
      'resume=True to continue that run, overwrite=True to start over, or give a new out=';
    const said = sidebarWarning(exists);
    expect(said).toMatch(/^md_runs\/villin_1vii_implicit already exists\. Approved as it stands, the run is refused/);
    expect(said).toContain('Resume (continue that run) and Overwrite and rerun (start over)');
    expect(said).not.toMatch(/resume=True|out=/);
    expect(
      sidebarWarning(
        'the output folder villin.pdb is the input `structure` itself: choose another output folder (out=) so the input is not overwritten'
      )
    ).toBe('the output folder villin.pdb is the input `structure` itself: deny, and ask again with another output folder so the input is not overwritten.');
    expect(sidebarWarning('runs/x is an existing file, not a folder: choose a new out=')).toBe(
      'runs/x is an existing file, not a folder: deny, and ask again with another output folder.'
    );
    const budget = 'the estimate (5 min) is longer than the 2 min left: raise the budget with `%kenkyu budget --seconds` or ask for a shorter run';
    expect(sidebarWarning(budget)).toContain('`%kenkyu budget --seconds` in a notebook cell or ask for a shorter run');
    expect(sidebarWarning('runs/x already exists and will be DELETED and started over (overwrite=True)')).toBe(
      'runs/x already exists and will be DELETED and started over (overwrite=True)'
    );
  });
});

describe('a button that deletes computed work asks first (newcomer r8: Overwrite over a finished 300 K run)', () => {
  const refused =
    'ERROR: RunExistsError: md_runs/hp35_villin_implicit already holds a run (finished). Pass resume=True to ' +
    'continue it, overwrite=True to delete it and start over, or a new out=.';

  it('names the folder and its state before Overwrite and rerun deletes it', () => {
    const text = overwriteConfirmation('Overwrite and rerun', refused);
    expect(text).toContain('This deletes md_runs/hp35_villin_implicit (a finished run)');
    expect(text).toContain('cannot be undone');
    expect(text).toContain('another output folder');
  });

  it('asks nothing before a button that deletes nothing', () => {
    expect(overwriteConfirmation('Resume', refused)).toBeNull();
    expect(overwriteConfirmation('Start again', 'nothing was kept')).toBeNull();
  });
});
