import { Action, IChatState, INITIAL_STATE, canUndo, describeEnd, formatDuration, reduce } from '../chatState';
import type { AgentEvent } from '../protocol';

function run(actions: Action[], start: IChatState = INITIAL_STATE): IChatState {
  return actions.reduce(reduce, start);
}

const ev = (event: AgentEvent): Action => ({ type: 'event', requestId: 'r1', event });
const ready: Action = {
  type: 'ready',
  model: { provider: 'local', model: 'm', label: 'local · m (offline)' },
  tools: ['t'],
  history: []
};

describe('chat state', () => {
  it('streams tokens into one reply, and opens a new reply after a tool card', () => {
    const state = run([
      ready,
      { type: 'ask', requestId: 'r1', prompt: 'rmsd please' },
      ev({ kind: 'token', text: 'Computing ' }),
      ev({ kind: 'token', text: 'the RMSD.' }),
      ev({ kind: 'tool_call', call_id: 'c1', name: 'analysis.rmsd', arguments: { run_dir: 'md_runs/x' }, code: 'r = ...' }),
      ev({ kind: 'token', text: 'Done.' })
    ]);
    expect(state.items.map(i => i.kind)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    const [, first, , second] = state.items as any[];
    expect(first.text).toBe('Computing the RMSD.');
    expect(first.streaming).toBe(false);
    expect(second.text).toBe('Done.');
    expect(second.streaming).toBe(true);
    expect(state.active).toBe('r1');
  });

  it('drops a reply that streamed only white space before a card: no empty bubble (newcomer r10)', () => {
    const state = run([
      ready,
      { type: 'ask', requestId: 'r1', prompt: 'how floppy is each residue in villin_1vii.pdb?' },
      ev({ kind: 'token', text: '\n' }),
      ev({ kind: 'tool_call', call_id: 'c1', name: 'analysis_rmsf', arguments: { trajectory: 'villin_1vii.pdb' }, code: 'r = ...' }),
      ev({ kind: 'token', text: 'Results:' })
    ]);
    expect(state.items.map(i => i.kind)).toEqual(['user', 'tool', 'assistant']);
  });

  it('keeps which kind each request is: an ask, or research with its plan and approval card', () => {
    const state = run([
      ready,
      { type: 'ask', requestId: 'r0', prompt: 'square 3' },
      { type: 'ask', requestId: 'r1', prompt: 'Does it fold?', kind: 'research' },
      ev({ kind: 'token', text: '## Plan\n\nHypothesis: it does.' }),
      ev({ kind: 'approval_needed', call_id: 'research_0', name: 'md_run', arguments: {}, code: 'run = ...', writes_files: true })
    ]);
    expect(state.requests['r0'].kind).toBe('ask');
    expect(state.requests['r1'].kind).toBe('research');
    expect(state.items.map(i => i.kind)).toEqual(['user', 'user', 'assistant', 'tool']);
    expect(state.items[1]).toMatchObject({ request: 'research', text: 'Does it fold?' });
    expect(state.items[3]).toMatchObject({ status: 'awaiting-approval', writesFiles: true });
    expect(state.active).toBe('r1');
  });

  it('takes a tool card through approval to its result with duration', () => {
    let state = run([
      ready,
      { type: 'ask', requestId: 'r1', prompt: 'simulate' },
      ev({ kind: 'tool_call', call_id: 'c1', name: 'md.run', arguments: { ps: 10 }, code: '' }),
      ev({ kind: 'approval_needed', call_id: 'c1', name: 'md.run', arguments: { ps: 10 }, code: '', writes_files: true })
    ]);
    const card = () => state.items.find(i => i.kind === 'tool') as any;
    expect(card().status).toBe('awaiting-approval');
    expect(card().writesFiles).toBe(true);
    state = reduce(state, { type: 'approval-sent', requestId: 'r1', callId: 'c1', approved: true });
    expect(card().status).toBe('approved');
    state = reduce(state, ev({ kind: 'tool_result', call_id: 'c1', name: 'md.run', ok: true, summary: '10 ps', duration_s: 12.4 }));
    expect(card()).toMatchObject({ status: 'ok', summary: '10 ps', durationS: 12.4 });
    expect(state.items.filter(i => i.kind === 'tool')).toHaveLength(1);
  });

  it('keeps a denied card denied when its failed result arrives', () => {
    const state = run([
      ready,
      { type: 'ask', requestId: 'r1', prompt: 'simulate' },
      ev({ kind: 'approval_needed', call_id: 'c1', name: 'md.run', arguments: {}, code: '', writes_files: true }),
      { type: 'approval-sent', requestId: 'r1', callId: 'c1', approved: false },
      ev({ kind: 'tool_result', call_id: 'c1', name: 'md.run', ok: false, summary: 'denied by the user', duration_s: 0 })
    ]);
    expect(state.items[1]).toMatchObject({ kind: 'tool', status: 'denied', summary: 'denied by the user' });
  });

  it('ends a request on done: input free, open cards closed, reason kept', () => {
    const state = run([
      ready,
      { type: 'ask', requestId: 'r1', prompt: 'x' },
      ev({ kind: 'approval_needed', call_id: 'c1', name: 'md.run', arguments: {}, code: '', writes_files: true }),
      { type: 'stop-sent', requestId: 'r1' },
      ev({ kind: 'done', reason: 'stopped', steps: 1, tokens: 5, elapsed_s: 2 })
    ]);
    expect(state.active).toBeNull();
    expect(state.requests['r1']).toMatchObject({ status: 'done', reason: 'stopped' });
    expect(state.items[1]).toMatchObject({ status: 'failed', summary: 'not finished (stopped)' });
    expect(describeEnd(state.requests['r1'])).toBe('Stopped.');
    // Its card resumed and finished since: the footer says so instead of a bare "Stopped." (newcomer r8).
    expect(describeEnd(state.requests['r1'], true)).toBe('Stopped, then resumed from its card.');
  });

  it('shows errors with their fix', () => {
    const state = run([
      ready,
      { type: 'ask', requestId: 'r1', prompt: 'x' },
      ev({ kind: 'error', message: 'no OPENAI_API_KEY', where: 'provider', fix: 'export OPENAI_API_KEY', recoverable: false })
    ]);
    expect(state.items[1]).toMatchObject({ kind: 'error', message: 'no OPENAI_API_KEY', fix: 'export OPENAI_API_KEY' });
  });

  it("does not repeat the user's own Stop as an error when the card already says interrupted — resumable", () => {
    const stopped = (where: string) =>
      run([
        ready,
        { type: 'ask', requestId: 'r1', prompt: 'simulate' },
        ev({ kind: 'tool_call', call_id: 'c1', name: 'md_run', arguments: {}, code: '' }),
        { type: 'tool-update', requestId: 'r1', callId: 'c1', change: { status: 'interrupted' } },
        ev({ kind: 'error', message: 'interrupted', where, fix: "the tool's result says how to resume it", recoverable: true })
      ]);
    expect(stopped('user').items.map(i => i.kind)).toEqual(['user', 'tool']);
    // The time budget interrupted it: that one the user did not do, so it is said.
    expect(stopped('budget').items.map(i => i.kind)).toEqual(['user', 'tool', 'error']);
  });

  it('shows the restored history on ready, but keeps live cards on a later ready', () => {
    const history = [
      { role: 'user' as const, text: 'earlier question' },
      { role: 'assistant' as const, text: 'earlier answer' }
    ];
    let state = run([{ ...ready, history }]);
    expect(state.items.map(i => (i as any).text)).toEqual(['earlier question', 'earlier answer']);
    expect(state.model?.label).toBe('local · m (offline)');
    state = run([{ type: 'ask', requestId: 'r1', prompt: 'new' }, ev({ kind: 'token', text: 'live' })], state);
    state = run([{ type: 'restarting' }, { ...ready, history: [...history, { role: 'user', text: 'new' }] }], state);
    expect(state.items.map(i => (i as any).text)).toEqual(['earlier question', 'earlier answer', 'new', 'live']);
    expect(state.requests['r1'].reason).toBe('interrupted');
    expect(state.active).toBeNull();
  });

  it('ignores events of requests it does not know (from before a reload)', () => {
    const state = run([ready, ev({ kind: 'token', text: 'stray' })]);
    expect(state.items).toEqual([]);
  });

  it('allows undo once, only after the request ended and only when it inserted cells', () => {
    let state = run([ready, { type: 'ask', requestId: 'r1', prompt: 'x' }, { type: 'cell-inserted', requestId: 'r1', cellId: 'a' }]);
    expect(canUndo(state.requests['r1'])).toBe(false);
    state = reduce(state, ev({ kind: 'done', reason: 'finished', steps: 1, tokens: 1, elapsed_s: 1 }));
    expect(canUndo(state.requests['r1'])).toBe(true);
    state = reduce(state, { type: 'undone', requestId: 'r1' });
    expect(canUndo(state.requests['r1'])).toBe(false);
    state = run([{ type: 'ask', requestId: 'r2', prompt: 'y' }, { type: 'event', requestId: 'r2', event: { kind: 'done', reason: 'finished', steps: 0, tokens: 0, elapsed_s: 0 } }], state);
    expect(canUndo(state.requests['r2'])).toBe(false);
  });

  it('says how a request ended and how long a tool took', () => {
    const base = { id: 'r', kind: 'ask' as const, status: 'done' as const, elapsedS: 0, cells: [], undone: false };
    expect(describeEnd({ ...base, reason: 'finished' })).toBe('');
    expect(describeEnd({ ...base, reason: 'budget:steps' })).toBe('Stopped: the steps budget ran out.');
    expect(formatDuration(1.234)).toBe('1.2 s');
    expect(formatDuration(42.4)).toBe('42 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(null)).toBe('');
  });
});
