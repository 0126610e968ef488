import {
  APPROVALS,
  EMPTY_SETTINGS,
  PROVIDERS,
  ProtocolError,
  SettingsError,
  approveMessage,
  askMessage,
  cellResultMessage,
  helloMessage,
  parseEvent,
  parseKernelMessage,
  parsePrompt,
  researchMessage,
  settingsFromRegistry,
  settingsMessage,
  stopMessage
} from '../protocol';
import { schemaErrors } from './protocolSchema';

describe('parseKernelMessage', () => {
  it('reads ready with model, tools and history', () => {
    const message = parseKernelMessage({
      type: 'ready',
      model: { provider: 'local', model: 'SmolLM2-135M-Instruct', label: 'local · SmolLM2-135M-Instruct (offline)' },
      tools: ['md.run', 'analysis.rmsd', 3],
      history: [
        { role: 'user', text: 'hi' },
        { role: 'assistant', text: 'hello' },
        { role: 'tool', text: 'dropped' }
      ]
    });
    expect(message).toEqual({
      type: 'ready',
      model: { provider: 'local', model: 'SmolLM2-135M-Instruct', label: 'local · SmolLM2-135M-Instruct (offline)' },
      approval: '',
      tools: ['md.run', 'analysis.rmsd'],
      history: [
        { role: 'user', text: 'hi' },
        { role: 'assistant', text: 'hello' }
      ]
    });
  });

  it('makes a label from provider and model when the kernel sends none', () => {
    const message = parseKernelMessage({ type: 'ready', model: { provider: 'openai', model: 'gpt-4o' } });
    expect(message.type === 'ready' && message.model.label).toBe('openai · gpt-4o');
  });

  it('reads events of every kind', () => {
    const tool = parseKernelMessage({
      type: 'event',
      request_id: 'r1',
      event: { kind: 'approval_needed', call_id: 'c1', name: 'md.run', arguments: { ps: 10 }, code: 'x', writes_files: true }
    });
    expect(tool).toEqual({
      type: 'event',
      request_id: 'r1',
      event: { kind: 'approval_needed', call_id: 'c1', name: 'md.run', arguments: { ps: 10 }, code: 'x', writes_files: true }
    });
    expect(parseEvent({ kind: 'done', reason: 'stopped', steps: 2, tokens: 10, elapsed_s: 1.5 })).toEqual({
      kind: 'done', reason: 'stopped', steps: 2, tokens: 10, elapsed_s: 1.5
    });
    expect(parseEvent({ kind: 'error', message: 'boom', where: 'tool', fix: 'retry' })).toEqual({
      kind: 'error', message: 'boom', where: 'tool', fix: 'retry', recoverable: true
    });
    expect(parseEvent({ kind: 'tool_result', call_id: 'c1', name: 'n', ok: true, summary: 's', duration_s: 2 })).toMatchObject({
      ok: true, duration_s: 2
    });
  });

  it('reads the optional cost, steps, warnings, status and resume fields, and leaves them out when absent', () => {
    const approval = {
      kind: 'approval_needed', call_id: 'c1', name: 'md.run', arguments: { ps: 2 }, code: 'x', writes_files: true,
      estimate: 'about 2 min on this machine', estimate_s: 118.5,
      steps: ['NVT equilibration 10 ps', 'production 2 ps'], warnings: ['out= is the input PDB: it would be overwritten']
    };
    expect(parseEvent(approval)).toEqual(approval);
    expect(schemaErrors({ type: 'event', request_id: 'r1', event: approval }, 'kernelMessage')).toEqual([]);
    expect(parseEvent({ ...approval, estimate_s: null })).toMatchObject({ estimate_s: null });
    expect(schemaErrors({ type: 'event', request_id: 'r1', event: { ...approval, estimate_s: null } }, 'kernelMessage')).toEqual([]);
    const plain = parseEvent({ kind: 'approval_needed', call_id: 'c1', name: 'n', arguments: {}, code: '', writes_files: false });
    expect(Object.keys(plain)).not.toContain('estimate');
    expect(Object.keys(plain)).not.toContain('warnings');

    const interrupted = {
      kind: 'tool_result', call_id: 'c1', name: 'md.run', ok: false, summary: 'interrupted at 4 ps', duration_s: 6.2,
      status: 'interrupted', resume: 'run = md.run("villin.pdb", ps=2, resume=True)'
    };
    expect(parseEvent(interrupted)).toEqual(interrupted);
    expect(schemaErrors({ type: 'event', request_id: 'r1', event: interrupted }, 'kernelMessage')).toEqual([]);
    expect(schemaErrors({ type: 'event', request_id: 'r1', event: { ...interrupted, status: 'paused' } }, 'kernelMessage')).not.toEqual([]);
    // An unknown status from a newer kernel is dropped (ok then says done/failed), not an error.
    expect(Object.keys(parseEvent({ ...interrupted, status: 'paused' }))).not.toContain('status');
  });

  it('reads kernel-level errors, which carry request_id null', () => {
    expect(
      parseKernelMessage({
        type: 'event', request_id: null,
        event: { kind: 'error', where: 'settings', message: 'unknown provider', fix: 'choose one' }
      })
    ).toMatchObject({ type: 'event', request_id: null, event: { kind: 'error', where: 'settings' } });
    expect(parseKernelMessage({ type: 'ready', model: {}, approval: 'auto' })).toMatchObject({ approval: 'auto' });
  });

  it('reads run_cell and record', () => {
    expect(
      parseKernelMessage({
        type: 'run_cell', request_id: 'r1', cell_request_id: 'k1', cell_type: 'code', source: 'print(1)',
        metadata: { kenkyu: { agent: true } }
      })
    ).toMatchObject({ type: 'run_cell', cell_type: 'code', source: 'print(1)' });
    expect(parseKernelMessage({ type: 'record', request_id: 'r1', record: { prompt: 'p' } })).toEqual({
      type: 'record', request_id: 'r1', record: { prompt: 'p' }
    });
  });

  it.each([
    [null, /should be an object/],
    [{ type: 'nonsense' }, /unknown message type "nonsense"/],
    [{ type: 'event', request_id: 'r', event: { kind: 'telepathy' } }, /unknown event kind "telepathy"/],
    [{ type: 'event', event: { kind: 'token', text: 'x' } }, /"request_id" should be a string/],
    [{ type: 'run_cell', request_id: 'r', cell_request_id: 'k', cell_type: 'raw', source: '' }, /"code" or "markdown"/],
    [{ type: 'record', request_id: 'r', record: [] }, /"record" should be an object/]
  ])('refuses %j with a message saying what is wrong', (data, pattern) => {
    expect(() => parseKernelMessage(data)).toThrow(ProtocolError);
    expect(() => parseKernelMessage(data)).toThrow(pattern);
  });
});

describe('messages to the kernel', () => {
  it('builds hello, ask and cell_result as PROTOCOL.md says', () => {
    const settings = settingsFromRegistry({ provider: 'replay', replay_file: '/tmp/t.json' });
    expect(helloMessage(settings, [{ prompt: 'p' }])).toEqual({
      type: 'hello',
      settings: { provider: 'replay', model: '', base_url: '', approval: '', replay_file: '/tmp/t.json', api_key_env: '' },
      records: [{ prompt: 'p' }]
    });
    expect(askMessage('r1', 'hi', [{ cell_type: 'code', source: 'x = 1' }])).toEqual({
      type: 'ask', request_id: 'r1', prompt: 'hi', cells: [{ cell_type: 'code', source: 'x = 1' }]
    });
    expect(cellResultMessage('r1', 'k1', 'ok', [], 3)).toEqual({
      type: 'cell_result', request_id: 'r1', cell_request_id: 'k1', status: 'ok', outputs: [], execution_count: 3
    });
    expect(cellResultMessage('r1', 'k1', 'cancelled', [], null, 'the cell was deleted')).toMatchObject({
      status: 'cancelled', reason: 'the cell was deleted'
    });
  });
});

describe('protocol.schema.json, the contract pytest checks the kernel against', () => {
  it('accepts every message the sidebar builds', () => {
    const settings = settingsFromRegistry({ provider: 'openai', model: 'gpt-4o', api_key_env: 'OPENAI_API_KEY', approval: 'auto' });
    const cells = [{ cell_type: 'code', source: 'x = 1' }];
    const built = [
      helloMessage(settings, [{ prompt: 'p', cells: [] }]),
      helloMessage(EMPTY_SETTINGS, []),
      settingsMessage(settings),
      askMessage('r1', 'hi', cells),
      askMessage('r1', 'hi'),
      researchMessage('r2', 'Does it fold? Run a simulation', cells),
      approveMessage('r1', 'c1', false),
      stopMessage('r1'),
      cellResultMessage('r1', 'k1', 'ok', [{ output_type: 'stream', name: 'stdout', text: '1\n' }], 3),
      cellResultMessage('r1', 'k1', 'cancelled', [], null, 'the cell was deleted')
    ];
    for (const message of built) {
      expect(schemaErrors(message, 'sidebarMessage')).toEqual([]);
    }
  });

  it('refuses what the kernel must never receive, and what it never sends', () => {
    expect(schemaErrors({ type: 'ask', request_id: 'r1' }, 'sidebarMessage')).not.toEqual([]);
    expect(schemaErrors({ type: 'shout', request_id: 'r1' }, 'sidebarMessage')).not.toEqual([]);
    const pasted = { type: 'settings', settings: { ...EMPTY_SETTINGS, api_key_env: 'sk-abc def' } };
    expect(schemaErrors(pasted, 'sidebarMessage')).not.toEqual([]);
    const event = { type: 'event', request_id: 'r1', event: { kind: 'token', text: 'hi' } };
    expect(schemaErrors(event, 'kernelMessage')).toEqual([]);
    expect(schemaErrors({ ...event, request_id: null }, 'kernelMessage')).toEqual([]);
    expect(schemaErrors({ ...event, event: { kind: 'token' } }, 'kernelMessage')).not.toEqual([]);
  });

  it('is where the provider and approval lists come from', () => {
    expect(PROVIDERS).toEqual(['local', 'openai', 'anthropic', 'replay', 'none']);
    expect(APPROVALS).toEqual(['ask', 'auto']);
  });

  it('reads /research as a research request and anything else as an ask', () => {
    expect(parsePrompt('  /research Does it fold?  ')).toEqual({ kind: 'research', prompt: 'Does it fold?' });
    expect(parsePrompt('/research')).toEqual({ kind: 'research', prompt: '' });
    expect(parsePrompt('/researcher notes')).toEqual({ kind: 'ask', prompt: '/researcher notes' });
    expect(parsePrompt(' what is /research? ')).toEqual({ kind: 'ask', prompt: 'what is /research?' });
  });
});

describe('settingsFromRegistry', () => {
  it('keeps empty values empty (kernel defaults) and trims the rest', () => {
    expect(settingsFromRegistry({ provider: ' openai ', model: 'gpt-4o', extra: 1 })).toEqual({
      provider: 'openai', model: 'gpt-4o', base_url: '', approval: '', replay_file: '', api_key_env: ''
    });
  });

  it('refuses a key pasted where the variable name belongs, without repeating the key', () => {
    let caught: unknown;
    try {
      settingsFromRegistry({ api_key_env: 'sk-proj-abcdef123456' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SettingsError);
    expect((caught as SettingsError).message).toMatch(/NAME of an environment variable/);
    expect((caught as SettingsError).message).not.toContain('sk-proj');
    expect((caught as SettingsError).fix).toMatch(/environment variable/);
    expect(settingsFromRegistry({ api_key_env: 'OPENAI_API_KEY' }).api_key_env).toBe('OPENAI_API_KEY');
  });

  it('refuses an unknown provider or approval mode and names the choices', () => {
    expect(() => settingsFromRegistry({ provider: 'gpt' })).toThrow(/unknown provider "gpt"/);
    expect(() => settingsFromRegistry({ approval: 'never' })).toThrow(/unknown approval mode/);
  });
});
