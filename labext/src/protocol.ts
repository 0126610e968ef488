/**
 * The sidebar ⇄ kernel messages of labext/PROTOCOL.md (comm target `kenkyu.chat`).
 *
 * Plain TypeScript with no JupyterLab imports, so the parsing and building of every message is
 * unit-tested without a browser. Anything arriving from the kernel is checked here once; the rest
 * of the front end only sees well-formed messages or a ProtocolError saying what was wrong.
 *
 * The contract itself is protocol.schema.json (JSON Schema): jest validates every message built
 * here against it, and pytest every message the kernel sends. The provider and approval lists
 * below come from it (and it is checked against the kernel's own list, kenkyu.core.config).
 */

import protocolSchema from './protocol.schema.json';

export const COMM_TARGET = 'kenkyu.chat';

/** Run silently in the kernel before opening the comm (idempotent on the kernel side). */
export const REGISTER_CODE =
  'import kenkyu.assistant.comm as _kk; _kk.register_target()';

/** The JSON Schema of every message (definitions.sidebarMessage, definitions.kernelMessage). */
export const PROTOCOL_SCHEMA = protocolSchema;

const settingsSchema = protocolSchema.definitions.settings.properties;
/** The providers a kernel knows (empty: the kernel's default), from the schema. */
export const PROVIDERS: readonly string[] = settingsSchema.provider.enum.filter(name => name !== '');
export const APPROVALS: readonly string[] = settingsSchema.approval.enum.filter(mode => mode !== '');

/** A chat message starting with this runs the research loop (%%research) instead of an ask. */
export const RESEARCH_PREFIX = '/research';

export type RequestKind = 'ask' | 'research';

/** What the user typed → which request, and its prompt ("/research Does it fold?" → research). */
export function parsePrompt(text: string): { kind: RequestKind; prompt: string } {
  const trimmed = text.trim();
  const match = /^\/research(?:\s+|$)/i.exec(trimmed);
  if (match) {
    return { kind: 'research', prompt: trimmed.slice(match[0].length).trim() };
  }
  return { kind: 'ask', prompt: trimmed };
}

/** Settings as they cross the comm: empty strings mean "the kernel's defaults / KENKYU_* env". */
export interface ISettings {
  provider: string;
  model: string;
  base_url: string;
  approval: string;
  replay_file: string;
  /** The NAME of an environment variable holding the key; keys never cross the comm. */
  api_key_env: string;
}

export const EMPTY_SETTINGS: ISettings = {
  provider: '',
  model: '',
  base_url: '',
  approval: '',
  replay_file: '',
  api_key_env: ''
};

export interface IModelInfo {
  provider: string;
  model: string;
  label: string;
  /** The next request loads the tool router and the embedded model first (the kernel's first request). */
  loads_first?: boolean;
}

export interface IHistoryEntry {
  role: 'user' | 'assistant';
  text: string;
}

// -- agent events (kenkyu.assistant.events to_dict()) -------------------------------------------

export interface ITokenEvent {
  kind: 'token';
  text: string;
}
export interface IToolCallEvent {
  kind: 'tool_call';
  call_id: string;
  name: string;
  arguments: Record<string, unknown>;
  code: string;
}
export interface IApprovalNeededEvent {
  kind: 'approval_needed';
  call_id: string;
  name: string;
  arguments: Record<string, unknown>;
  code: string;
  writes_files: boolean;
  /** The measured cost estimate in words ('' when the kernel sent none). */
  estimate?: string;
  /** The estimate in seconds; null when nothing was measured to estimate from. */
  estimate_s?: number | null;
  /** Every step that will run, with its length. */
  steps?: string[];
  /** Arguments that would overwrite or collide with existing files: shown before Approve. */
  warnings?: string[];
}
export interface IToolResultEvent {
  kind: 'tool_result';
  call_id: string;
  name: string;
  ok: boolean;
  summary: string;
  duration_s: number;
  /** How the tool ended; absent from older kernels (then `ok` says done/failed). */
  status?: ToolStatus;
  /** The code that resumes the run (interrupted) or reruns it with resume=True (failed). */
  resume?: string;
}
export type ToolStatus = 'done' | 'failed' | 'interrupted';
const TOOL_STATUSES: readonly string[] = ['done', 'failed', 'interrupted'];
export interface ICellEvent {
  kind: 'cell';
  cell_type: string;
  source: string;
  metadata: Record<string, unknown>;
  outputs: unknown[];
}
export interface IErrorEvent {
  kind: 'error';
  message: string;
  where: string;
  fix: string;
  recoverable: boolean;
}
export interface IDoneEvent {
  kind: 'done';
  reason: string;
  steps: number;
  tokens: number;
  elapsed_s: number;
}
export type AgentEvent =
  | ITokenEvent
  | IToolCallEvent
  | IApprovalNeededEvent
  | IToolResultEvent
  | ICellEvent
  | IErrorEvent
  | IDoneEvent;

// -- kernel → sidebar ---------------------------------------------------------------------------

export interface IReadyMessage {
  type: 'ready';
  model: IModelInfo;
  /** The approval mode in force in the kernel (ask|auto). */
  approval: string;
  tools: string[];
  history: IHistoryEntry[];
  /** All the kernel's records, when the page's records (sent in hello) lack some: the page files those it lacks. */
  records?: Record<string, unknown>[];
}
export interface IEventMessage {
  type: 'event';
  /** null for kernel-level errors not tied to a request (settings, tools, an unknown message). */
  request_id: string | null;
  event: AgentEvent;
}
export interface IRunCellMessage {
  type: 'run_cell';
  request_id: string;
  cell_request_id: string;
  cell_type: 'code' | 'markdown';
  source: string;
  metadata: Record<string, unknown>;
}
export interface IRecordMessage {
  type: 'record';
  request_id: string;
  record: Record<string, unknown>;
}
/**
 * A question asked in a %%ask cell of this kernel while the sidebar is open, and the reply it wrote: the chat
 * shows it, as `ready`'s history shows those asked before it connected (newcomer r12).
 */
export interface IAskedMessage {
  type: 'asked';
  history: IHistoryEntry[];
  /** The %%ask request's record: filed in the notebook's records so a reload shows the turn (r12: it vanished). */
  record?: Record<string, unknown>;
}
export type KernelMessage = IReadyMessage | IEventMessage | IRunCellMessage | IRecordMessage | IAskedMessage;

/** A message from the kernel that does not follow PROTOCOL.md. */
export class ProtocolError extends Error {
  readonly fix =
    'the kernel and the sidebar speak different versions of the protocol: upgrade kenkyu in the ' +
    'kernel environment and reload the page';
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(data: Json, key: string, where: string): string {
  const value = data[key];
  if (typeof value !== 'string') {
    throw new ProtocolError(`${where}: "${key}" should be a string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function optStr(data: Json, key: string, fallback = ''): string {
  const value = data[key];
  return typeof value === 'string' ? value : fallback;
}

function optNum(data: Json, key: string): number {
  const value = data[key];
  return typeof value === 'number' && isFinite(value) ? value : 0;
}

function strList(data: Json, key: string): string[] | undefined {
  const value = data[key];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

/** Copy the optional fields that are present, so an absent field stays absent (not ''). */
function withOptional<T extends object>(base: T, extra: Partial<T>): T {
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined) {
      (base as Record<string, unknown>)[key] = value;
    }
  }
  return base;
}

function obj(data: Json, key: string): Json {
  const value = data[key];
  return isObject(value) ? value : {};
}

/** Check one agent event; unknown kinds are a ProtocolError (the kernel is newer than us). */
export function parseEvent(data: unknown): AgentEvent {
  if (!isObject(data)) {
    throw new ProtocolError(`event should be an object, got ${JSON.stringify(data)}`);
  }
  const kind = data['kind'];
  switch (kind) {
    case 'token':
      return { kind, text: str(data, 'text', 'token event') };
    case 'tool_call':
      return {
        kind,
        call_id: str(data, 'call_id', 'tool_call event'),
        name: str(data, 'name', 'tool_call event'),
        arguments: obj(data, 'arguments'),
        code: optStr(data, 'code')
      };
    case 'approval_needed': {
      const estimateS = data['estimate_s'];
      return withOptional<IApprovalNeededEvent>(
        {
          kind,
          call_id: str(data, 'call_id', 'approval_needed event'),
          name: str(data, 'name', 'approval_needed event'),
          arguments: obj(data, 'arguments'),
          code: optStr(data, 'code'),
          writes_files: data['writes_files'] === true
        },
        {
          estimate: typeof data['estimate'] === 'string' ? (data['estimate'] as string) : undefined,
          estimate_s:
            estimateS === null ? null : typeof estimateS === 'number' && isFinite(estimateS) ? estimateS : undefined,
          steps: strList(data, 'steps'),
          warnings: strList(data, 'warnings')
        }
      );
    }
    case 'tool_result': {
      const status = data['status'];
      return withOptional<IToolResultEvent>(
        {
          kind,
          call_id: str(data, 'call_id', 'tool_result event'),
          name: optStr(data, 'name'),
          ok: data['ok'] === true,
          summary: optStr(data, 'summary'),
          duration_s: optNum(data, 'duration_s')
        },
        {
          status: typeof status === 'string' && TOOL_STATUSES.includes(status) ? (status as ToolStatus) : undefined,
          resume: typeof data['resume'] === 'string' ? (data['resume'] as string) : undefined
        }
      );
    }
    case 'cell':
      return {
        kind,
        cell_type: optStr(data, 'cell_type', 'code'),
        source: optStr(data, 'source'),
        metadata: obj(data, 'metadata'),
        outputs: Array.isArray(data['outputs']) ? (data['outputs'] as unknown[]) : []
      };
    case 'error':
      return {
        kind,
        message: str(data, 'message', 'error event'),
        where: optStr(data, 'where'),
        fix: optStr(data, 'fix'),
        recoverable: data['recoverable'] !== false
      };
    case 'done':
      return {
        kind,
        reason: optStr(data, 'reason', 'finished'),
        steps: optNum(data, 'steps'),
        tokens: optNum(data, 'tokens'),
        elapsed_s: optNum(data, 'elapsed_s')
      };
    default:
      throw new ProtocolError(`unknown event kind ${JSON.stringify(kind)}`);
  }
}

function parseHistory(value: unknown): IHistoryEntry[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value
    .filter(isObject)
    .filter(e => (e['role'] === 'user' || e['role'] === 'assistant') && typeof e['text'] === 'string')
    .map(e => ({ role: e['role'] as 'user' | 'assistant', text: e['text'] as string }));
}

/** Check one comm message from the kernel. Throws ProtocolError when it is malformed. */
export function parseKernelMessage(data: unknown): KernelMessage {
  if (!isObject(data)) {
    throw new ProtocolError(`message should be an object, got ${JSON.stringify(data)}`);
  }
  const type = data['type'];
  switch (type) {
    case 'ready': {
      const model = obj(data, 'model');
      const tools = Array.isArray(data['tools'])
        ? (data['tools'] as unknown[]).filter((t): t is string => typeof t === 'string')
        : [];
      const provider = optStr(model, 'provider');
      const name = optStr(model, 'model');
      return {
        type,
        model: {
          provider,
          model: name,
          label: optStr(model, 'label') || [provider, name].filter(Boolean).join(' · '),
          ...(model['loads_first'] === true ? { loads_first: true } : {})
        },
        approval: optStr(data, 'approval'),
        tools,
        history: parseHistory(data['history']),
        ...(Array.isArray(data['records']) ? { records: (data['records'] as unknown[]).filter(isObject) } : {})
      };
    }
    case 'event':
      return {
        type,
        request_id: data['request_id'] === null ? null : str(data, 'request_id', 'event message'),
        event: parseEvent(data['event'])
      };
    case 'run_cell': {
      const cellType = data['cell_type'];
      if (cellType !== 'code' && cellType !== 'markdown') {
        throw new ProtocolError(
          `run_cell: "cell_type" should be "code" or "markdown", got ${JSON.stringify(cellType)}`
        );
      }
      return {
        type,
        request_id: str(data, 'request_id', 'run_cell message'),
        cell_request_id: str(data, 'cell_request_id', 'run_cell message'),
        cell_type: cellType,
        source: str(data, 'source', 'run_cell message'),
        metadata: obj(data, 'metadata')
      };
    }
    case 'record': {
      if (!isObject(data['record'])) {
        throw new ProtocolError('record message: "record" should be an object');
      }
      return {
        type,
        request_id: str(data, 'request_id', 'record message'),
        record: data['record'] as Json
      };
    }
    case 'asked':
      return {
        type,
        history: parseHistory(data['history']),
        ...(isObject(data['record']) ? { record: data['record'] as Json } : {})
      };
    default:
      throw new ProtocolError(`unknown message type ${JSON.stringify(type)}`);
  }
}

// -- sidebar → kernel ---------------------------------------------------------------------------

export interface IContextCell {
  cell_type: string;
  source: string;
}

export type CellStatus = 'ok' | 'error' | 'cancelled';

export function helloMessage(settings: ISettings, records: unknown[]): Json {
  return { type: 'hello', settings: { ...settings }, records };
}

export function askMessage(requestId: string, prompt: string, cells?: IContextCell[]): Json {
  return requestMessage('ask', requestId, prompt, cells);
}

/** Plan, Do, Check, Act on a research question: the same events, cells and record as ask. */
export function researchMessage(requestId: string, prompt: string, cells?: IContextCell[]): Json {
  return requestMessage('research', requestId, prompt, cells);
}

export function requestMessage(kind: RequestKind, requestId: string, prompt: string, cells?: IContextCell[]): Json {
  const message: Json = { type: kind, request_id: requestId, prompt };
  if (cells) {
    message['cells'] = cells;
  }
  return message;
}

export function approveMessage(requestId: string, callId: string, approved: boolean): Json {
  return { type: 'approve', request_id: requestId, call_id: callId, approved };
}

export function stopMessage(requestId: string): Json {
  return { type: 'stop', request_id: requestId };
}

export function cellResultMessage(
  requestId: string,
  cellRequestId: string,
  status: CellStatus,
  outputs: unknown[],
  executionCount: number | null,
  reason?: string
): Json {
  const message: Json = {
    type: 'cell_result',
    request_id: requestId,
    cell_request_id: cellRequestId,
    status,
    outputs,
    execution_count: executionCount
  };
  if (reason) {
    message['reason'] = reason; // why a cell was cancelled; the agent reads it
  }
  return message;
}

export function settingsMessage(settings: ISettings): Json {
  return { type: 'settings', settings: { ...settings } };
}

/** An environment variable name; anything else (a pasted key, say) is refused. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class SettingsError extends Error {
  constructor(
    message: string,
    readonly fix: string
  ) {
    super(message);
  }
}

/**
 * Settings registry values → the settings sent in hello. Empty means "kernel default". A value
 * that is not an environment variable NAME in api_key_env is refused so that a key pasted there by
 * mistake never reaches the kernel, the notebook or a log.
 */
export function settingsFromRegistry(composite: Record<string, unknown>): ISettings {
  const settings: ISettings = { ...EMPTY_SETTINGS };
  for (const key of Object.keys(EMPTY_SETTINGS) as (keyof ISettings)[]) {
    const value = composite[key];
    settings[key] = typeof value === 'string' ? value.trim() : '';
  }
  if (settings.provider && !PROVIDERS.includes(settings.provider)) {
    throw new SettingsError(
      `unknown provider "${settings.provider}"`,
      `choose one of ${PROVIDERS.join(', ')} (or leave it empty) in Settings → kenkyu chat`
    );
  }
  if (settings.approval && !APPROVALS.includes(settings.approval)) {
    throw new SettingsError(
      `unknown approval mode "${settings.approval}"`,
      'choose ask or auto (or leave it empty) in Settings → kenkyu chat'
    );
  }
  if (settings.api_key_env && !ENV_NAME.test(settings.api_key_env)) {
    throw new SettingsError(
      'api_key_env must be the NAME of an environment variable (like OPENAI_API_KEY), not a key',
      'put the key in an environment variable of the Jupyter server and write its name here'
    );
  }
  return settings;
}
