import { ChatSession, IComm, ICellRun, IKernelLink, INotebookDriver } from '../chatSession';
import { activity, resumingTool } from '../chatState';
import { interruptedStatus, resumeActions, resumingStatus } from '../fixes';
import { EMPTY_SETTINGS, ISettings } from '../protocol';
import { expectValid } from './protocolSchema';

type Json = Record<string, any>;

/** A kernel that records what the sidebar sends and lets the test speak for the kernel. */
class FakeKernel implements IKernelLink {
  sent: Json[] = [];
  opened: { target: string; data: Json }[] = [];
  registerError: Error | null = null;
  private onMessage: ((data: unknown) => void) | null = null;
  private onClose: (() => void) | null = null;
  closed = 0;

  async register(): Promise<void> {
    if (this.registerError) {
      throw this.registerError;
    }
  }

  openComm(target: string, data: Json, onMessage: (data: unknown) => void, onClose: () => void): IComm {
    expectValid(data, 'sidebarMessage'); // everything the sidebar sends keeps protocol.schema.json
    this.opened.push({ target, data });
    this.onMessage = onMessage;
    this.onClose = onClose;
    const send = (d: Json) => {
      expectValid(d, 'sidebarMessage');
      this.sent.push(d);
    };
    return { send, close: () => (this.closed += 1) };
  }

  say(data: unknown): void {
    this.onMessage!(data);
  }

  hangUp(): void {
    this.onClose!();
  }
}

/** A notebook as a list of cells; running a code cell "prints" its source. */
class FakeNotebook implements INotebookDriver {
  cells: { id: string; cell_type: string; source: string; metadata: Json }[] = [
    { id: 'user-1', cell_type: 'code', source: 'x = 1', metadata: {} }
  ];
  kenkyu: unknown = undefined;
  runs: string[] = [];
  failRun = false;
  /** Cells whose run waits until the test interrupts the kernel (a long simulation). */
  slow = new Set<string>();
  interruptMessage = 'resume with resume=True'; // what a slow cell's RunInterrupted says when stopped
  interrupts = 0;
  saves: number[] = []; // the number of cells at each save
  chosen: string | null = null;
  private interrupted: (() => void) | null = null;
  private next = 0;

  takeChosenCell(): string | null {
    const chosen = this.chosen;
    this.chosen = null;
    return chosen;
  }

  async interrupt(): Promise<void> {
    this.interrupts += 1;
    this.interrupted?.();
  }

  async save(): Promise<void> {
    this.saves.push(this.cells.length);
  }

  condensed: string[] = [];
  condenseErrors(cellId: string): void {
    this.condensed.push(cellId);
  }

  notebookCells() {
    return this.cells.map(c => ({ id: c.id, kenkyu: (c.metadata.kenkyu ?? {}) as Json }));
  }

  insertCell(cellType: 'code' | 'markdown', source: string, metadata: Json, afterCellId: string | null): string {
    const id = `agent-${++this.next}`;
    const at = afterCellId ? this.cells.findIndex(c => c.id === afterCellId) + 1 : this.cells.length;
    this.cells.splice(at, 0, { id, cell_type: cellType, source, metadata });
    return id;
  }

  async runCell(cellId: string): Promise<ICellRun> {
    this.runs.push(cellId);
    if (this.failRun) {
      throw new Error('kernel went away');
    }
    const cell = this.cells.find(c => c.id === cellId)!;
    if (this.slow.has(cell.source)) {
      await new Promise<void>(resolve => (this.interrupted = resolve));
      const outputs = [{ output_type: 'error', ename: 'RunInterrupted', evalue: this.interruptMessage, traceback: [] }];
      return { status: 'error', outputs, executionCount: this.runs.length };
    }
    const error = cell.source.includes('raise');
    return {
      status: error ? 'error' : 'ok',
      outputs: error
        ? [{ output_type: 'error', ename: 'ValueError', evalue: 'bad', traceback: [] }]
        : [{ output_type: 'stream', name: 'stdout', text: `ran ${cell.source}\n` }],
      executionCount: this.runs.length
    };
  }

  removeCells(ids: string[]): string[] {
    const removed = this.cells.filter(c => ids.includes(c.id));
    this.cells = this.cells.filter(c => !ids.includes(c.id));
    return removed.map(c => c.source);
  }

  getKenkyuMetadata(): unknown {
    return this.kenkyu;
  }

  setKenkyuMetadata(value: Json): void {
    this.kenkyu = value;
  }

  contextCells() {
    return this.cells.map(c => ({ cell_type: c.cell_type, source: c.source }));
  }
}

const READY = {
  type: 'ready',
  model: { provider: 'replay', model: 'turns.json', label: 'replay · turns.json' },
  tools: ['analysis.rmsd'],
  history: []
};

async function connected(settings: ISettings = EMPTY_SETTINGS) {
  const kernel = new FakeKernel();
  const notebook = new FakeNotebook();
  const session = new ChatSession(notebook, settings);
  await session.connect(kernel);
  kernel.say(READY);
  return { kernel, notebook, session };
}

describe('ChatSession', () => {
  it('opens the kenkyu.chat comm with hello carrying settings and the stored records', async () => {
    const kernel = new FakeKernel();
    const notebook = new FakeNotebook();
    notebook.kenkyu = { records: [{ prompt: 'before' }] };
    const session = new ChatSession(notebook, { ...EMPTY_SETTINGS, provider: 'replay' });
    await session.connect(kernel);
    expect(kernel.opened).toEqual([
      {
        target: 'kenkyu.chat',
        data: { type: 'hello', settings: { ...EMPTY_SETTINGS, provider: 'replay' }, records: [{ prompt: 'before' }] }
      }
    ]);
    expect(session.state.connection).toBe('connecting');
    kernel.say({ ...READY, history: [{ role: 'user', text: 'before' }] });
    expect(session.state.connection).toBe('ready');
    expect(session.state.model?.label).toBe('replay · turns.json');
    expect(session.state.items).toMatchObject([{ kind: 'user', text: 'before' }]);
  });

  it('runs a whole request: ask, stream, approve, cells run and answered, record stored', async () => {
    const { kernel, notebook, session } = await connected();
    const id = session.ask('  compute the RMSD  ')!;
    expect(kernel.sent[0]).toEqual({
      type: 'ask', request_id: id, prompt: 'compute the RMSD', cells: [{ cell_type: 'code', source: 'x = 1' }]
    });
    expect(session.ask('a second one at once')).toBeNull(); // one request at a time

    kernel.say({ type: 'event', request_id: id, event: { kind: 'token', text: 'On it.' } });
    kernel.say({
      type: 'event', request_id: id,
      event: { kind: 'approval_needed', call_id: 'c1', name: 'analysis.rmsd', arguments: { run_dir: 'r' }, code: '', writes_files: false }
    });
    session.approve(id, 'c1', true);
    expect(kernel.sent[1]).toEqual({ type: 'approve', request_id: id, call_id: 'c1', approved: true });

    kernel.say({ type: 'run_cell', request_id: id, cell_request_id: 'k1', cell_type: 'code', source: 'rmsd = 1', metadata: { kenkyu: { agent: true, variable: 'rmsd' } } });
    kernel.say({ type: 'run_cell', request_id: id, cell_request_id: 'k2', cell_type: 'markdown', source: 'RMSD done', metadata: { kenkyu: { agent: true } } });
    kernel.say({ type: 'run_cell', request_id: id, cell_request_id: 'k3', cell_type: 'code', source: 'raise ValueError', metadata: {} });
    await session.idle();

    // Cells in order, below each other, all marked as the agent's.
    expect(notebook.cells.map(c => c.source)).toEqual(['x = 1', 'rmsd = 1', 'RMSD done', 'raise ValueError']);
    expect(notebook.cells.slice(1).every(c => c.metadata.kenkyu.agent === true && c.metadata.kenkyu.request_id === id)).toBe(true);
    expect(notebook.runs).toEqual(['agent-1', 'agent-3']); // markdown is not executed
    expect(notebook.condensed).toEqual(['agent-3']); // the failed cell shows one line, not a traceback
    const results = kernel.sent.filter(m => m.type === 'cell_result');
    expect(results).toEqual([
      { type: 'cell_result', request_id: id, cell_request_id: 'k1', status: 'ok', outputs: [{ output_type: 'stream', name: 'stdout', text: 'ran rmsd = 1\n' }], execution_count: 1 },
      { type: 'cell_result', request_id: id, cell_request_id: 'k2', status: 'ok', outputs: [], execution_count: null },
      { type: 'cell_result', request_id: id, cell_request_id: 'k3', status: 'error', outputs: [expect.objectContaining({ ename: 'ValueError' })], execution_count: 2 }
    ]);

    kernel.say({ type: 'event', request_id: id, event: { kind: 'tool_result', call_id: 'c1', name: 'analysis.rmsd', ok: true, summary: 'rmsd ready', duration_s: 0.5 } });
    kernel.say({ type: 'event', request_id: id, event: { kind: 'done', reason: 'finished', steps: 2, tokens: 40, elapsed_s: 3 } });
    kernel.say({ type: 'record', request_id: id, record: { prompt: 'compute the RMSD', cells: [{ source: 'rmsd = 1' }] } });
    expect(notebook.kenkyu).toEqual({
      records: [
        {
          prompt: 'compute the RMSD',
          cells: [{ source: 'rmsd = 1' }],
          // What only the sidebar knew of its cards, for a reload to restore them.
          sidebar: {
            request_id: id,
            tools: [{ call_id: 'c1', name: 'analysis.rmsd', status: 'ok', summary: 'rmsd ready', duration_s: 0.5 }]
          }
        }
      ]
    });
    await session.idle();
    expect(notebook.saves).toEqual([4]); // saved once, after its cells ran and the record was filed
    expect(session.state.active).toBeNull();
    expect(session.state.requests[id].cells).toEqual(['agent-1', 'agent-2', 'agent-3']);
    expect(session.state.items.map(i => i.kind)).toEqual(['user', 'assistant', 'tool']);
  });

  it('runs a research request: /research, the plan, approval, the sections as cells, the record', async () => {
    const { kernel, notebook, session } = await connected();
    const id = session.ask('/research Does villin stay folded? Run a 10 ps simulation, then compute the RMSD')!;
    expect(kernel.sent[0]).toEqual({
      type: 'research',
      request_id: id,
      prompt: 'Does villin stay folded? Run a 10 ps simulation, then compute the RMSD',
      cells: [{ cell_type: 'code', source: 'x = 1' }]
    });
    expect(session.state.requests[id].kind).toBe('research');
    expect(session.state.items[0]).toMatchObject({ kind: 'user', request: 'research', text: expect.stringMatching(/^Does/) });

    const section = (name: string) => ({ kenkyu: { agent: true, role: 'narrative', section: name } });
    kernel.say({ type: 'event', request_id: id, event: { kind: 'token', text: '## Plan\n\nHypothesis: it stays folded.\n' } });
    kernel.say({ type: 'run_cell', request_id: id, cell_request_id: 'md-1', cell_type: 'markdown', source: '## Plan', metadata: section('plan') });
    kernel.say({
      type: 'event', request_id: id,
      event: { kind: 'approval_needed', call_id: 'research_0', name: 'md_run', arguments: { ps: 10 }, code: 'run = md.run(ps=10)', writes_files: true }
    });
    expect(session.state.items.map(i => i.kind)).toEqual(['user', 'assistant', 'tool']);
    expect(session.state.items[2]).toMatchObject({ status: 'awaiting-approval', name: 'md_run' });
    session.approve(id, 'research_0', true);
    expect(kernel.sent.at(-1)).toEqual({ type: 'approve', request_id: id, call_id: 'research_0', approved: true });

    kernel.say({ type: 'run_cell', request_id: id, cell_request_id: 'md-2', cell_type: 'markdown', source: '## Do', metadata: section('do') });
    kernel.say({
      type: 'run_cell', request_id: id, cell_request_id: 'k1', cell_type: 'code', source: 'run = md.run(ps=10)',
      metadata: { kenkyu: { agent: true, tool: 'md_run', call_id: 'research_0', variable: 'run', model: 'replay', section: 'do' } }
    });
    kernel.say({ type: 'run_cell', request_id: id, cell_request_id: 'md-3', cell_type: 'markdown', source: '## Check', metadata: section('check') });
    kernel.say({
      type: 'run_cell', request_id: id, cell_request_id: 'k2', cell_type: 'code', source: 'check = checks(run)',
      metadata: { kenkyu: { agent: true, section: 'check', variable: 'check' } }
    });
    kernel.say({ type: 'run_cell', request_id: id, cell_request_id: 'md-4', cell_type: 'markdown', source: '## Act', metadata: section('act') });
    await session.idle();
    expect(notebook.cells.map(c => c.source)).toEqual(['x = 1', '## Plan', '## Do', 'run = md.run(ps=10)', '## Check', 'check = checks(run)', '## Act']);
    expect(notebook.cells.slice(1).map(c => c.metadata.kenkyu.section)).toEqual(['plan', 'do', 'do', 'check', 'check', 'act']);
    expect(kernel.sent.filter(m => m.type === 'cell_result').map(m => m.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);

    kernel.say({ type: 'event', request_id: id, event: { kind: 'done', reason: 'finished', steps: 1, tokens: 0, elapsed_s: 9 } });
    kernel.say({ type: 'record', request_id: id, record: { kind: 'research', prompt: 'Does villin stay folded?', cells: [] } });
    expect(session.state.active).toBeNull();
    expect((notebook.kenkyu as any).records[0].kind).toBe('research');
    expect(session.state.requests[id].cells).toHaveLength(6);
  });

  it('refuses /research without a question, and sends nothing', async () => {
    const { kernel, session } = await connected();
    expect(session.ask('/research   ')).toBeNull();
    expect(kernel.sent).toEqual([]);
    expect(session.state.items.at(-1)).toMatchObject({ kind: 'error', message: expect.stringContaining('/research') });
    expect(session.state.active).toBeNull();
  });

  it('undo removes the request\'s cells and marks them removed in its stored record', async () => {
    const { kernel, notebook, session } = await connected();
    const id = session.ask('make a cell')!;
    kernel.say({ type: 'run_cell', request_id: id, cell_request_id: 'k1', cell_type: 'code', source: 'a = 2', metadata: {} });
    await session.idle();
    session.undo(id); // not before the request is over
    expect(notebook.cells).toHaveLength(2);
    kernel.say({ type: 'event', request_id: id, event: { kind: 'done', reason: 'finished', steps: 1, tokens: 1, elapsed_s: 1 } });
    kernel.say({ type: 'record', request_id: id, record: { prompt: 'make a cell', cells: [{ source: 'a = 2', metadata: {} }] } });
    session.undo(id);
    expect(notebook.cells.map(c => c.source)).toEqual(['x = 1']);
    expect((notebook.kenkyu as any).records[0].cells[0].metadata.kenkyu.removed).toBe(true);
    expect(session.state.requests[id].undone).toBe(true);
  });

  it('an undo before the record arrives is applied to the record when it comes', async () => {
    const { kernel, notebook, session } = await connected();
    const id = session.ask('make a cell')!;
    kernel.say({ type: 'run_cell', request_id: id, cell_request_id: 'k1', cell_type: 'code', source: 'b = 3', metadata: {} });
    await session.idle();
    kernel.say({ type: 'event', request_id: id, event: { kind: 'done', reason: 'finished', steps: 1, tokens: 1, elapsed_s: 1 } });
    session.undo(id);
    kernel.say({ type: 'record', request_id: id, record: { cells: [{ source: 'b = 3' }] } });
    expect((notebook.kenkyu as any).records[0].cells[0].metadata.kenkyu.removed).toBe(true);
  });

  it('answers cancelled when a cell cannot run, and says why', async () => {
    const { kernel, notebook, session } = await connected();
    notebook.failRun = true;
    const id = session.ask('run')!;
    kernel.say({ type: 'run_cell', request_id: id, cell_request_id: 'k1', cell_type: 'code', source: 'y = 2', metadata: {} });
    await session.idle();
    expect(kernel.sent.at(-1)).toMatchObject({
      type: 'cell_result', cell_request_id: 'k1', status: 'cancelled', reason: 'kernel went away'
    });
    expect(session.state.items.at(-1)).toMatchObject({ kind: 'error', message: "could not run the agent's cell: kernel went away" });
  });

  it('stop sends stop and shows the request as stopping', async () => {
    const { kernel, session } = await connected();
    const id = session.ask('long job')!;
    session.stop(id);
    expect(kernel.sent.at(-1)).toEqual({ type: 'stop', request_id: id });
    expect(session.state.requests[id].status).toBe('stopping');
  });

  it('reconnects after a kernel restart with a fresh hello holding the records', async () => {
    const { kernel, notebook, session } = await connected();
    const id = session.ask('q')!;
    kernel.say({ type: 'record', request_id: id, record: { prompt: 'q' } });
    session.kernelRestarting();
    expect(session.state.connection).toBe('restarting');
    expect(session.state.active).toBeNull();
    kernel.hangUp(); // the old comm going away during a restart is not an error
    expect(session.state.items.some(i => i.kind === 'error')).toBe(false);
    await session.connect(kernel);
    expect(kernel.opened).toHaveLength(2);
    const stored = [{ prompt: 'q', sidebar: { request_id: id, tools: [] } }];
    expect(kernel.opened[1].data.records).toEqual(stored);
    kernel.say(READY);
    expect(session.state.connection).toBe('ready');
    expect(notebook.kenkyu).toEqual({ records: stored });
  });

  it('says plainly when kenkyu cannot start in the kernel, with the fix', async () => {
    const kernel = new FakeKernel();
    kernel.registerError = new Error("ModuleNotFoundError: No module named 'kenkyu'");
    const session = new ChatSession(new FakeNotebook(), EMPTY_SETTINGS);
    await session.connect(kernel);
    expect(kernel.opened).toHaveLength(0);
    expect(session.state.connection).toBe('closed');
    expect(session.state.items.at(-1)).toMatchObject({
      kind: 'error',
      message: expect.stringContaining("No module named 'kenkyu'"),
      fix: expect.stringContaining('pip install kenkyu')
    });
  });

  it('shows a malformed kernel message as an error instead of failing', async () => {
    const { kernel, session } = await connected();
    kernel.say({ type: 'telepathy' });
    expect(session.state.items.at(-1)).toMatchObject({ kind: 'error', message: 'unknown message type "telepathy"' });
  });

  it('shows kernel-level errors (request_id null) on their own, with the fix', async () => {
    const { kernel, session } = await connected();
    kernel.say({
      type: 'event', request_id: null,
      event: { kind: 'error', where: 'settings', message: 'unknown provider "gpt"', fix: 'choose local, openai, ...' }
    });
    expect(session.state.items.at(-1)).toMatchObject({
      kind: 'error', requestId: null, message: 'unknown provider "gpt"', fix: 'choose local, openai, ...'
    });
    kernel.say({ ...READY, approval: 'auto' });
    expect(session.state.approval).toBe('auto');
  });

  it('answers cancelled, with the reason, for a cell of a request this page does not know', async () => {
    const { kernel, notebook } = await connected();
    kernel.say({ type: 'run_cell', request_id: 'from-before-reload', cell_request_id: 'k9', cell_type: 'code', source: 'z = 1', metadata: {} });
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(notebook.cells).toHaveLength(1);
    expect(kernel.sent.at(-1)).toMatchObject({ type: 'cell_result', cell_request_id: 'k9', status: 'cancelled', reason: expect.stringContaining('reloaded') });
  });

  it('sends changed settings to a connected kernel', async () => {
    const { kernel, session } = await connected();
    session.updateSettings({ ...EMPTY_SETTINGS, provider: 'openai', model: 'gpt-4o' });
    expect(kernel.sent.at(-1)).toEqual({ type: 'settings', settings: { ...EMPTY_SETTINGS, provider: 'openai', model: 'gpt-4o' } });
  });

  it('an unexpected comm close says how to reconnect', async () => {
    const { kernel, session } = await connected();
    kernel.hangUp();
    expect(session.state.connection).toBe('closed');
    expect(session.state.items.at(-1)).toMatchObject({ kind: 'error', fix: expect.stringContaining('reconnect') });
  });
});

describe('ChatSession, as a scientist uses it (issue 18)', () => {
  const toolCall = (id: string, callId: string, source: string) => ({
    type: 'run_cell', request_id: id, cell_request_id: `k-${callId}`, cell_type: 'code', source,
    metadata: { kenkyu: { agent: true, tool: 'md_run', call_id: callId, variable: 'run', model: 'local' } }
  });
  const done = (id: string, reason = 'finished') => ({
    type: 'event', request_id: id, event: { kind: 'done', reason, steps: 1, tokens: 1, elapsed_s: 1 }
  });

  it('Stop interrupts the running cell; the card reads interrupted — resumable and Resume runs the resume code', async () => {
    const { kernel, notebook, session } = await connected();
    notebook.slow.add('run = md.run(ps=12)');
    const id = session.ask('simulate villin')!;
    session.stop('not-running'); // nothing runs for another request: no interrupt
    expect(notebook.interrupts).toBe(0);
    kernel.say({ type: 'event', request_id: id, event: { kind: 'tool_call', call_id: 'c1', name: 'md_run', arguments: { ps: 12 }, code: 'run = md.run(ps=12)' } });
    kernel.say(toolCall(id, 'c1', 'run = md.run(ps=12)'));
    await new Promise(resolve => setTimeout(resolve, 0)); // the cell is running
    session.stop(id);
    expect(kernel.sent.at(-1)).toEqual({ type: 'stop', request_id: id });
    expect(notebook.interrupts).toBe(1); // the notebook's stop button's interrupt, not only the stop message
    await session.idle();
    const card = () => session.state.items.find(i => i.kind === 'tool') as any;
    expect(card().status).toBe('interrupted'); // seen from the cell's KeyboardInterrupt
    expect(kernel.sent.filter(m => m.type === 'cell_result').at(-1)).toMatchObject({ status: 'error' });

    const resume = 'run = md.run(ps=12, resume=True)';
    kernel.say({
      type: 'event', request_id: id,
      event: { kind: 'tool_result', call_id: 'c1', name: 'md_run', ok: false, summary: 'interrupted at 4 ps', duration_s: 6.1, status: 'interrupted', resume }
    });
    kernel.say(done(id, 'stopped'));
    kernel.say({ type: 'record', request_id: id, record: { prompt: 'simulate villin', cells: [] } });
    expect(card()).toMatchObject({ status: 'interrupted', resume, summary: 'interrupted at 4 ps' });

    await session.resume(id, 'c1');
    expect(notebook.cells.at(-1)).toMatchObject({ source: resume, metadata: { kenkyu: { agent: true, role: 'resume', request_id: id } } });
    expect(notebook.runs.at(-1)).toBe(notebook.cells.at(-1)!.id);
    expect(card()).toMatchObject({ status: 'ok' });
    expect(session.state.requests[id].cells).toContain(notebook.cells.at(-1)!.id); // Undo covers it
    expect((notebook.kenkyu as any).records[0].sidebar.tools[0].status).toBe('ok'); // a reload shows it resumed
    expect(notebook.saves.length).toBeGreaterThanOrEqual(2);
  });

  it("the first request of a kernel that loads the embedded model says it is loading, then no more", async () => {
    const kernel = new FakeKernel();
    const session = new ChatSession(new FakeNotebook(), EMPTY_SETTINGS);
    await session.connect(kernel);
    kernel.say({ ...READY, model: { provider: 'local', model: 'SmolLM2', label: 'local · SmolLM2', loads_first: true } });
    const first = session.ask('which residues of t2 move the most?')!;
    expect(activity(session.state, first)).toMatch(/^Loading the tool router and the model \(first request in this kernel/);
    kernel.say({ type: 'event', request_id: first, event: { kind: 'token', text: 'Using t2.' } });
    expect(activity(session.state, first)).toBe('Writing the reply');
    kernel.say(done(first));
    const second = session.ask('same for t1')!;
    expect(activity(session.state, second)).toBe('The model is choosing the next step');
  });

  it('a card says it is checking the call until its cell runs or its approval card comes', async () => {
    const { kernel, notebook, session } = await connected();
    notebook.slow.add('run = md.run(ps=12)');
    const id = session.ask('simulate villin')!;
    const card = () => session.state.items.find(i => i.kind === 'tool') as any;
    kernel.say({ type: 'event', request_id: id, event: { kind: 'tool_call', call_id: 'c1', name: 'md_run', arguments: { ps: 12 }, code: 'run = md.run(ps=12)' } });
    expect(card().status).toBe('checking'); // priced and checked in the kernel: not started, not yet asking
    kernel.say(toolCall(id, 'c1', 'run = md.run(ps=12)'));
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(card().status).toBe('running'); // its cell runs now
    session.stop(id);
    await session.idle();
    kernel.say(done(id, 'stopped'));
    expect(card().status).not.toBe('checking');
  });

  it('an approved card says running once its cell runs, and the footer says what the request is doing', async () => {
    const { kernel, notebook, session } = await connected();
    notebook.slow.add('run = md.run(ps=12)');
    const id = session.ask('simulate villin')!;
    const card = () => session.state.items.find(i => i.kind === 'tool') as any;
    expect(activity(session.state, id)).toBe('The model is choosing the next step');
    kernel.say({ type: 'event', request_id: id, event: { kind: 'token', text: 'A short run.' } });
    expect(activity(session.state, id)).toBe('Writing the reply');
    kernel.say({
      type: 'event', request_id: id,
      event: { kind: 'approval_needed', call_id: 'c1', name: 'md_run', arguments: { ps: 12 }, code: '', writes_files: true }
    });
    expect(activity(session.state, id)).toMatch(/^Waiting for your approval of md_run/);
    session.approve(id, 'c1', true);
    expect(card().status).toBe('approved');
    const before = Date.now();
    kernel.say(toolCall(id, 'c1', 'run = md.run(ps=12)'));
    await new Promise(resolve => setTimeout(resolve, 0));
    // A simulation's cell runs for minutes: "approved" until the end read as if it had not started.
    expect(card().status).toBe('running');
    expect(card().startedAt).toBeGreaterThanOrEqual(before);
    expect(activity(session.state, id)).toBe('Running md_run in the notebook');
    expect(session.state.requests[id].startedAt).toBeLessThanOrEqual(before);
    session.stop(id);
    expect(activity(session.state, id)).toBe('Stopping…');
    await session.idle();
    kernel.say(done(id, 'stopped'));
    expect(activity(session.state, id)).toBe('');
  });

  it('while a resumed run works, the chat waits for it and its card can stop it', async () => {
    const { kernel, notebook, session } = await connected();
    const resume = 'run = md.run(ps=12, resume=True)';
    notebook.slow.add(resume);
    const id = session.ask('simulate villin')!;
    kernel.say({ type: 'event', request_id: id, event: { kind: 'tool_call', call_id: 'c1', name: 'md_run', arguments: { ps: 12 }, code: 'x' } });
    kernel.say({
      type: 'event', request_id: id,
      event: { kind: 'tool_result', call_id: 'c1', name: 'md_run', ok: false, summary: 'interrupted', duration_s: 6, status: 'interrupted', resume }
    });
    kernel.say(done(id, 'stopped'));
    session.stopResume(); // nothing resumes yet: no interrupt
    expect(notebook.interrupts).toBe(0);
    const resumed = session.resume(id, 'c1');
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(resumingTool(session.state)).toMatchObject({ name: 'md_run', status: 'resuming' });
    expect(resumingTool(session.state)!.startedAt).toBeDefined();
    session.stopResume();
    expect(notebook.interrupts).toBe(1);
    await resumed;
    expect(resumingTool(session.state)).toBeUndefined();
    expect((session.state.items.find(i => i.kind === 'tool') as any).status).toBe('interrupted');
  });

  it("a restarted run stopped again says whether anything was kept, from its cell's error", async () => {
    // Seen by a newcomer: Stop before DHFR's first checkpoint, Start again, Stop again -> the card read
    // "resume interrupted" under "interrupted — resumable" and "the work so far is kept".
    const { kernel, notebook, session } = await connected();
    const resume = "run_2 = kenkyu.tools.md.run(structure='5dfr_minimized.pdb', ps=2, resume=True)";
    notebook.slow.add(resume);
    notebook.interruptMessage =
      'Run in md_runs/5dfr_minimized_implicit interrupted before its first checkpoint; nothing was kept. Start it ' +
      'again with the same call (resume=True works too: it starts afresh).';
    const id = session.ask('simulate 5dfr_minimized.pdb for 2 ps in implicit solvent')!;
    kernel.say({ type: 'event', request_id: id, event: { kind: 'tool_call', call_id: 'c1', name: 'md_run', arguments: { ps: 2 }, code: 'x' } });
    kernel.say({
      type: 'event', request_id: id,
      event: { kind: 'tool_result', call_id: 'c1', name: 'md_run', ok: false, summary: 'interrupted — resumable (interrupted by the user). Run in md_runs/5dfr_minimized_implicit interrupted before its first checkpoint; nothing was kept.', duration_s: 41, status: 'interrupted', resume }
    });
    kernel.say(done(id, 'stopped'));
    const resumed = session.resume(id, 'c1');
    await new Promise(resolve => setTimeout(resolve, 0));
    session.stopResume();
    await resumed;
    const card = session.state.items.find(i => i.kind === 'tool') as any;
    expect(card.status).toBe('interrupted');
    expect(card.summary).toBe(`RunInterrupted: ${notebook.interruptMessage}`);
    expect(interruptedStatus(card.summary)).toBe('interrupted — nothing kept');
    expect(resumeActions(card.resume, card.status, card.summary)).toEqual([{ label: 'Start again', code: resume }]);
  });

  it('a refused run rerun in a new folder reads "running in a new folder", then "finished in a new folder"', async () => {
    // Seen by a newcomer (r10): 40 ps asked after a 2 ps run in the default folder, refused; "Run in a new folder"
    // made the card read "resuming" and then "resumed and finished" for a run that started from scratch.
    const { kernel, session } = await connected();
    const code = "run = kenkyu.tools.md.run(structure='villin_1vii.pdb', ps=40.0, out='md_runs/villin_1vii_implicit_40ps')";
    const summary =
      'RunExistsError: md_runs/villin_1vii_implicit holds a 300 K, 2 ps implicit-solvent run (finished), made with ' +
      "other settings (ps: run has 2.0, call has 40.0). Resuming it would refuse those settings and starting over " +
      "would delete that run, so neither is offered: run in a new folder, out='md_runs/villin_1vii_implicit_40ps' " +
      '(a folder not made yet).';
    const id = session.ask('now a longer one please: 40 ps of villin')!;
    kernel.say({ type: 'event', request_id: id, event: { kind: 'tool_call', call_id: 'c1', name: 'md_run', arguments: { ps: 40 }, code: 'x' } });
    kernel.say({
      type: 'event', request_id: id,
      event: { kind: 'tool_result', call_id: 'c1', name: 'md_run', ok: false, summary, duration_s: 2, status: 'failed', resume: code }
    });
    kernel.say(done(id, 'finished'));
    expect(resumeActions(code, 'failed', summary)).toEqual([{ label: 'Run in a new folder', code }]);
    const rerun = session.resume(id, 'c1', code);
    // While its cell runs the card keeps the refusal as its summary: its head reads from it.
    const running = resumingTool(session.state)!;
    expect(resumingStatus(running.summary)).toBe('running in a new folder');
    await rerun;
    const card = session.state.items.find(i => i.kind === 'tool') as any;
    expect(card.status).toBe('ok');
    expect(card.summary.startsWith('finished in a new folder')).toBe(true);
  });

  it('three requests read top to bottom; a cell the user chose is where the next answer goes', async () => {
    const { kernel, notebook, session } = await connected();
    notebook.cells.push({ id: 'user-2', cell_type: 'markdown', source: '# notes', metadata: {} });
    for (const n of [1, 2, 3]) {
      const id = session.ask(`request ${n}`)!;
      kernel.say({ type: 'run_cell', request_id: id, cell_request_id: `m${n}`, cell_type: 'markdown', source: `answer ${n}`, metadata: { kenkyu: { agent: true } } });
      kernel.say({ type: 'run_cell', request_id: id, cell_request_id: `c${n}`, cell_type: 'code', source: `x${n} = ${n}`, metadata: {} });
      await session.idle();
      kernel.say(done(id));
    }
    expect(notebook.cells.map(c => c.source)).toEqual(['x = 1', '# notes', 'answer 1', 'x1 = 1', 'answer 2', 'x2 = 2', 'answer 3', 'x3 = 3']);

    notebook.chosen = 'user-1'; // the user clicked the first cell before asking
    const id = session.ask('request 4')!;
    kernel.say({ type: 'run_cell', request_id: id, cell_request_id: 'm4', cell_type: 'markdown', source: 'answer 4', metadata: {} });
    kernel.say({ type: 'run_cell', request_id: id, cell_request_id: 'c4', cell_type: 'code', source: 'x4 = 4', metadata: {} });
    await session.idle();
    expect(notebook.cells.map(c => c.source).slice(0, 4)).toEqual(['x = 1', 'answer 4', 'x4 = 4', '# notes']);
  });

  it('after a reload the cards come back from the records: name, result, duration, and Undo', async () => {
    const first = await connected();
    const id = first.session.ask('simulate villin')!;
    first.kernel.say({ type: 'event', request_id: id, event: { kind: 'token', text: 'Running it.' } });
    first.kernel.say({ type: 'event', request_id: id, event: { kind: 'tool_call', call_id: 'c1', name: 'md_run', arguments: { ps: 2 }, code: 'run = md.run(ps=2)' } });
    first.kernel.say(toolCall(id, 'c1', 'run = md.run(ps=2)'));
    await first.session.idle();
    first.kernel.say({ type: 'event', request_id: id, event: { kind: 'tool_result', call_id: 'c1', name: 'md_run', ok: true, summary: '2 ps in 40 s', duration_s: 40.2 } });
    first.kernel.say(done(id));
    first.kernel.say({
      type: 'record', request_id: id,
      record: {
        prompt: 'simulate villin', cells: [{ cell_type: 'code', source: 'run = md.run(ps=2)', metadata: { kenkyu: { agent: true, call_id: 'c1' } }, outputs: [] }],
        done: { kind: 'done', reason: 'finished', steps: 1, tokens: 1, elapsed_s: 41 },
        messages: [
          { role: 'user', content: 'simulate villin' },
          { role: 'assistant', content: 'Running it.', tool_calls: [{ id: 'c1', name: 'md_run', arguments: { ps: 2 } }] },
          { role: 'tool', content: '2 ps in 40 s', tool_call_id: 'c1', name: 'md_run' },
          { role: 'assistant', content: 'It stays folded.' }
        ]
      }
    });
    await first.session.idle();

    // The page reloads: a new session on the same (saved) notebook.
    const kernel = new FakeKernel();
    const session = new ChatSession(first.notebook, EMPTY_SETTINGS);
    await session.connect(kernel);
    kernel.say({ ...READY, history: [{ role: 'user', text: 'simulate villin' }] });
    const kinds = session.state.items.map(i => i.kind);
    expect(kinds).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(session.state.items[2]).toMatchObject({ name: 'md_run', status: 'ok', summary: '2 ps in 40 s', durationS: 40.2, arguments: { ps: 2 } });
    expect(session.state.requests[id]).toMatchObject({ status: 'done', restored: true, cells: [first.notebook.cells.at(-1)!.id] });
    session.undo(id);
    expect(first.notebook.cells.map(c => c.source)).toEqual(['x = 1']);
    expect((first.notebook.kenkyu as any).records[0].cells[0].metadata.kenkyu.removed).toBe(true);
  });

  it("after a reload a request that ended with an error still shows the error and its fix", async () => {
    const first = await connected();
    const id = first.session.ask('run a quick simulation of my villin')!;
    const message = "the embedded model's tool call did not parse (Unterminated string)";
    first.kernel.say({ type: 'event', request_id: id, event: { kind: 'error', message, where: 'provider', fix: '', recoverable: false } });
    first.kernel.say(done(id, 'error'));
    first.kernel.say({
      type: 'record', request_id: id,
      record: { prompt: 'run a quick simulation of my villin', cells: [], done: { kind: 'done', reason: 'error', steps: 0, tokens: 0, elapsed_s: 25 },
        messages: [{ role: 'user', content: 'run a quick simulation of my villin' }] }
    });
    await first.session.idle();

    const kernel = new FakeKernel();
    const session = new ChatSession(first.notebook, EMPTY_SETTINGS);
    await session.connect(kernel);
    kernel.say(READY);
    // Before, the record kept no error: a reload showed "Ended with an error." and nothing to act on.
    expect(session.state.items.map(i => i.kind)).toEqual(['user', 'error']);
    expect(session.state.items[1]).toMatchObject({ message, where: 'provider', fix: '' });
    expect(session.state.requests[id]).toMatchObject({ reason: 'error', restored: true });
  });

  it('the approval card state carries the estimate, the steps and the warnings', async () => {
    const { kernel, session } = await connected();
    const id = session.ask('simulate')!;
    kernel.say({
      type: 'event', request_id: id,
      event: {
        kind: 'approval_needed', call_id: 'c1', name: 'md_run', arguments: { out: 'villin.pdb' }, code: '', writes_files: true,
        estimate: 'about 2 min', estimate_s: 120, steps: ['NVT equilibration 10 ps', 'production 2 ps'],
        warnings: ['out is the input PDB villin.pdb: pick a new folder']
      }
    });
    expect(session.state.items.at(-1)).toMatchObject({
      status: 'awaiting-approval', estimate: 'about 2 min', steps: ['NVT equilibration 10 ps', 'production 2 ps'],
      warnings: ['out is the input PDB villin.pdb: pick a new folder']
    });
  });
});
