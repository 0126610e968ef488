/**
 * Fixes phrased for the sidebar. The kernel writes one fix for every front end, often as a
 * `%kenkyu` command or a Python argument; in the chat a user acts through the settings and the
 * card's buttons, so those fixes are said that way here (the kernel's text is kept after it).
 */

export interface ISidebarFix {
  /** The fix as a sidebar user reads it. */
  text: string;
  /** Offer the "Open settings" button (the fix is a setting of the chat). */
  settings: boolean;
}

const SETTINGS = 'Settings → Settings Editor → kenkyu chat';

/**
 * The model's reply could not be used (a tool call that did not parse, a timeout) and the provider gave
 * no fix: a person still needs to know what to do next rather than read "Ended with an error".
 */
export const PROVIDER_FIX =
  'ask again in other words, naming the file and what to do with it (e.g. "simulate villin_1vii.pdb for ' +
  `2 ps in implicit solvent"), or choose a stronger model in ${SETTINGS}`;

/** `%kenkyu provider openai --model gpt-4o` → where the same is set for the sidebar. */
export function sidebarFix(fix: string, where = ''): ISidebarFix {
  if (!fix.trim() && where === 'provider') {
    return { text: PROVIDER_FIX, settings: true };
  }
  const provider = /%kenkyu provider\s+([\w-]+)(?:[^`\n]*?--model\s+(\S+?))?(?=[`\s,;.]|$)/.exec(fix);
  if (provider) {
    const model = provider[2] && !provider[2].includes('…') ? ` and the model ${provider[2]}` : ' and a model';
    return { text: `choose the provider ${provider[1]}${model} in ${SETTINGS}`, settings: true };
  }
  if (/%kenkyu provider/.test(fix)) {
    return { text: `check the provider and model in ${SETTINGS} (${fix})`, settings: true };
  }
  const approval = /%kenkyu approval\s+(ask|auto)/.exec(fix);
  if (approval) {
    return { text: `set approval to ${approval[1]} in ${SETTINGS}, or approve the tool on its card`, settings: true };
  }
  if (/says how to resume/.test(fix)) {
    return { text: 'press Resume on its card to continue from the last checkpoint', settings: false };
  }
  if (/%kenkyu\s/.test(fix)) {
    // Other %kenkyu commands have no sidebar setting: they run in a notebook cell.
    return { text: `${fix} (in a notebook cell)`, settings: false };
  }
  return { text: fix, settings: false };
}

/**
 * An approval card's warning as a sidebar user can act on it. The kernel says what to pass (`resume=True`,
 * `out=`); on the card the choice is Approve or Deny, and a refused run's card then offers Resume and
 * Overwrite and rerun, so the warning says that (the kernel's words for the folder are kept).
 */
export function sidebarWarning(warning: string): string {
  const exists = /^(.+?) already exists: the call will be refused as it stands\b/.exec(warning);
  if (exists) {
    return (
      `${exists[1]} already exists. Approved as it stands, the run is refused and nothing is overwritten; its card ` +
      'then offers Resume (continue that run) and Overwrite and rerun (start over). Or deny, and ask again with ' +
      'another output folder.'
    );
  }
  const collides = /^(.+?)(?::\s*)(?:choose another output folder \(out=\)|choose a new out=)(.*)$/.exec(warning);
  if (collides) {
    return `${collides[1]}: deny, and ask again with another output folder${collides[2]}.`.replace(/\.\.$/, '.');
  }
  // `%kenkyu budget --seconds` has no sidebar setting: it is typed in a notebook cell.
  return warning.replace(/(`%kenkyu [^`]+`)/g, '$1 in a notebook cell');
}

/** The buttons a failed or interrupted card offers, from the kernel's resume code. */
export function resumeActions(resume: string, status: string, summary: string): { label: string; code: string }[] {
  if (!resume) {
    return [];
  }
  if (status === 'interrupted') {
    // Stopped before its first checkpoint, the same call starts afresh: "Resume" would promise kept work.
    // A Gō run keeps its frames but no checkpoint: its resume=True runs it again from 0 ps.
    const label = keptNothing(summary) ? 'Start again' : /reruns from 0 ps/.test(summary) ? 'Run again from 0 ps' : 'Resume';
    return [{ label, code: resume }];
  }
  const actions: { label: string; code: string }[] = [];
  // The folder holds a run made with other settings: its code is the call in a new folder (its resume=True
  // only makes the cell re-runnable); "Resume" would fail and "Overwrite" would delete that run.
  if (/run in a new folder, out=/.test(summary)) {
    return [{ label: 'Run in a new folder', code: resume }];
  }
  if (/\bresume=True\b/.test(resume)) {
    actions.push({ label: 'Resume', code: resume });
    // "Pass resume=True, overwrite=True or a new out=": the same call, starting over instead.
    if (/overwrite=True/.test(summary)) {
      actions.push({ label: 'Overwrite and rerun', code: resume.replace(/\bresume=True\b/, 'overwrite=True') });
    }
  } else if (/\boverwrite=True\b/.test(resume)) {
    actions.push({ label: 'Overwrite and rerun', code: resume });
  } else {
    actions.push({ label: 'Run again', code: resume });
  }
  return actions;
}

/**
 * What to confirm before a card's button deletes computed work, or null when it deletes nothing. "Overwrite and
 * rerun" on a refused run deletes the finished run in that folder: a newcomer asking for 360 K was offered it over
 * their 300 K run, one click from losing it (newcomer r8).
 */
export function overwriteConfirmation(label: string, summary: string): string | null {
  if (label !== 'Overwrite and rerun') {
    return null;
  }
  const held = /(\S+) already holds a run(?: \((\w+)\))?/.exec(summary);
  const what = held ? `${held[1]}${held[2] ? ` (a ${held[2]} run)` : ''}` : 'the existing run folder';
  return (
    `This deletes ${what}: its trajectory and every file in it, then runs the call again there. It cannot be ` +
    'undone. To keep it, ask again with another output folder.'
  );
}

/**
 * Whether an interrupted tool kept nothing to continue from: md.run stopped before its first checkpoint
 * removes its folder and says "nothing was kept" (its resume=True then starts afresh).
 */
export function keptNothing(summary: string): boolean {
  return /\bnothing was kept\b/i.test(summary);
}

/**
 * The code a failed or interrupted card's button runs: the kernel's resume code, or, for a stopped tool that kept
 * nothing and cannot resume (a coarse-grained run), its own call again (the card had no button at all).
 */
export function rerunCode(item: { resume: string; status: string; summary: string; code: string }): string {
  if (item.resume || item.status !== 'interrupted' || !keptNothing(item.summary)) {
    return item.resume;
  }
  return item.code;
}

/** The line under an interrupted card: what was kept and what its button does. */
export function interruptedNote(summary: string, resume: string): string {
  if (keptNothing(summary)) {
    // A tool that cannot resume (a coarse-grained run) has no checkpoints: it keeps its files when it finishes.
    const when = /\bresume=True\b/.test(resume) ? 'before its first checkpoint' : 'before it finished';
    return resume
      ? `Stopped ${when}, so nothing was kept. Start again runs the same call in a new cell.`
      : `Stopped ${when}, so nothing was kept. Run its cell again to start over.`;
  }
  // No resume code: the kernel found no way to continue this tool ("interrupted — not resumable ... Run the cell
  // again to start over"); advice to add resume=True under it contradicted the card (newcomer r8, md.extend).
  return resume
    ? 'Stopped mid-run; the work so far is kept. Resume continues from the last checkpoint in a new cell.'
    : 'Stopped mid-run. This tool cannot continue where it stopped: run its cell again to start over.';
}

/** The status in an interrupted card's head: "resumable" only when something was kept to resume from. */
export function interruptedStatus(summary: string): string {
  if (keptNothing(summary)) {
    return 'interrupted — nothing kept';
  }
  return /^interrupted — not resumable\b/.test(summary) ? 'interrupted — not resumable' : 'interrupted — resumable';
}

/**
 * Whether a failed card's button runs the call in a new folder: the folder held a run made with other settings
 * (its "Run in a new folder" button). Nothing is resumed then: a newcomer who asked for 40 ps after a 2 ps run
 * pressed it and read "resuming" on a run starting from scratch.
 */
function runsInANewFolder(summary: string): boolean {
  return /run in a new folder, out=/.test(summary);
}

/** The head of a card whose resume cell runs: a run that kept nothing starts again, it does not resume. */
export function resumingStatus(summary: string): string {
  if (runsInANewFolder(summary)) {
    return 'running in a new folder';
  }
  return keptNothing(summary) ? 'restarting' : 'resuming';
}

/** The chat's input while a card's resume cell runs: a run that kept nothing starts again, it does not resume. */
export function resumingPlaceholder(name: string, summary: string): string {
  if (runsInANewFolder(summary)) {
    return `Waiting for ${name} in its new folder to finish (Stop on its card ends it)`;
  }
  return `Waiting for the ${keptNothing(summary) ? 'restarted' : 'resumed'} ${name} to finish (Stop on its card ends it)`;
}

/** The head of a card's summary once its button's cell finished: a run in a new folder resumed nothing. */
export function rerunFinished(summary: string): string {
  return runsInANewFolder(summary) ? 'finished in a new folder' : 'resumed and finished';
}

/**
 * An interrupted card's summary in the sidebar's terms. The kernel's text serves every front end: it
 * repeats the status, tells a notebook user to add resume=True (or use the CLI) and ends with the code
 * after "Resume with:". On the card the status is in its head and the Resume button runs that code, so
 * what is left is why it stopped and what was kept.
 */
export function sidebarSummary(summary: string, status: string, resume: string): string {
  if (status !== 'interrupted' || (!resume && !keptNothing(summary))) {
    return summary;
  }
  // The kernel ends with "Resume with:" or, when nothing was kept, "Start it again with:" and the code: the
  // button runs it (left in, the card's summary ended on "Start it again with:" over folded code).
  return summary
    .replace(/\n(?:Resume|Start it again) with:\n[\s\S]*$/, '')
    .replace(/^interrupted — (?:resumable|nothing kept) \(([^)]*)\)/, (_, why: string) => why.charAt(0).toUpperCase() + why.slice(1))
    .replace(/\s*Continue it with the same call plus resume=True[^\n]*/g, '')
    // Nothing kept: the Start again button is the same call, so the notebook's advice for it goes too.
    .replace(/\s*Start it again with the same call[^\n]*/g, '')
    // The note under the card says it (a coarse-grained run stopped by a newcomer said it three ways).
    .replace(/\s*Run the cell again to start over\.$/, '')
    .trim();
}

/**
 * A reply's advice in the sidebar's terms: the kernel's fixed text names the `%kenkyu provider` command,
 * which a sidebar user sets in the settings instead.
 */
export function sidebarReply(text: string): string {
  return text.replace(
    /use a stronger model: `%kenkyu provider [^`]*`/g,
    `choose a stronger model in ${SETTINGS}`
  );
}
