/**
 * The chat of one notebook as plain data, changed only by `reduce` (a pure function).
 *
 * The panel renders this state; the connection turns comm messages and button presses into
 * actions. Keeping it pure lets jest check streaming, tool cards, stop and undo without a browser.
 */

import type { AgentEvent, IHistoryEntry, IModelInfo, IToolResultEvent, RequestKind } from './protocol';

export type ConnectionStatus =
  | 'idle' // not connected yet (no kernel, or the sidebar has not asked)
  | 'connecting'
  | 'ready'
  | 'restarting'
  | 'closed';

/** The life of a tool card. */
export type ToolStatus =
  // The kernel prices the call and checks its files before it asks for approval or runs it: for a first
  // explicit-solvent simulation that calibration can take minutes, and "running" would read as started.
  | 'checking'
  | 'running'
  | 'awaiting-approval'
  | 'approved'
  | 'denied'
  | 'ok'
  | 'failed'
  | 'interrupted' // stopped mid-run; `resume` continues it
  | 'resuming'; // its resume cell is running

export interface IUserItem {
  kind: 'user';
  id: string;
  requestId: string | null;
  text: string;
  /** 'research' for a /research question (the research loop); absent for restored history. */
  request?: RequestKind;
}

export interface IAssistantItem {
  kind: 'assistant';
  id: string;
  requestId: string | null;
  text: string;
  streaming: boolean;
}

export interface IToolItem {
  kind: 'tool';
  id: string;
  requestId: string;
  callId: string;
  name: string;
  arguments: Record<string, unknown>;
  code: string;
  status: ToolStatus;
  writesFiles: boolean;
  summary: string;
  durationS: number | null;
  /** The measured cost estimate ('' when the kernel sent none), and the steps that will run. */
  estimate: string;
  steps: string[];
  /** Arguments that would overwrite or collide with files: shown prominently before Approve. */
  warnings: string[];
  /** Code that resumes the run (interrupted) or reruns it with resume/overwrite (failed); '' if none. */
  resume: string;
  /** When its cell started running (ms since the epoch): the card counts the time while it runs. */
  startedAt?: number;
}

export interface IErrorItem {
  kind: 'error';
  id: string;
  requestId: string | null;
  message: string;
  fix: string;
  where: string;
}

export type ChatItem = IUserItem | IAssistantItem | IToolItem | IErrorItem;

export interface IRequestState {
  id: string;
  /** ask: the agent loop; research: Plan, Do, Check, Act. */
  kind: RequestKind;
  status: 'running' | 'stopping' | 'done';
  /** Why it ended (Done.reason): finished, stopped, budget:steps, error... */
  reason: string;
  elapsedS: number;
  /** Ids of the notebook cells this request inserted, in order (for Undo). */
  cells: string[];
  undone: boolean;
  /** Restored from the notebook's records after a reload (not run on this page). */
  restored?: boolean;
  /** When it was asked (ms since the epoch): the footer counts the time while it works. */
  startedAt?: number;
}

export interface IChatState {
  connection: ConnectionStatus;
  model: IModelInfo | null;
  /** The approval mode in force in the kernel (ask|auto), '' before ready. */
  approval: string;
  tools: string[];
  items: ChatItem[];
  requests: { [id: string]: IRequestState };
  /** The request the input is waiting on; one at a time per notebook. */
  active: string | null;
}

export const INITIAL_STATE: IChatState = {
  connection: 'idle',
  model: null,
  approval: '',
  tools: [],
  items: [],
  requests: {},
  active: null
};

export type Action =
  | { type: 'connecting' }
  | { type: 'ready'; model: IModelInfo; approval?: string; tools: string[]; history: IHistoryEntry[] }
  | { type: 'asked'; history: IHistoryEntry[] }
  | { type: 'restarting' }
  | { type: 'closed'; message: string; fix: string }
  | { type: 'ask'; requestId: string; prompt: string; kind?: RequestKind; at?: number }
  | { type: 'event'; requestId: string; event: AgentEvent }
  | { type: 'approval-sent'; requestId: string; callId: string; approved: boolean }
  | { type: 'stop-sent'; requestId: string }
  | { type: 'cell-inserted'; requestId: string; cellId: string }
  | { type: 'undone'; requestId: string }
  | { type: 'restore'; items: ChatItem[]; requests: IRequestState[] }
  | { type: 'tool-update'; requestId: string; callId: string; change: Partial<IToolItem> }
  | { type: 'error'; requestId: string | null; message: string; fix: string; where: string };

let counter = 0;
function nextId(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

function updateRequest(
  state: IChatState,
  id: string,
  change: Partial<IRequestState>
): IChatState {
  const current = state.requests[id];
  if (!current) {
    return state;
  }
  return { ...state, requests: { ...state.requests, [id]: { ...current, ...change } } };
}

function updateTool(
  state: IChatState,
  requestId: string,
  callId: string,
  change: (item: IToolItem) => Partial<IToolItem>
): IChatState {
  let found = false;
  const items = state.items.map(item => {
    if (item.kind === 'tool' && item.requestId === requestId && item.callId === callId) {
      found = true;
      return { ...item, ...change(item) };
    }
    return item;
  });
  return found ? { ...state, items } : state;
}

function hasTool(state: IChatState, requestId: string, callId: string): boolean {
  return state.items.some(
    i => i.kind === 'tool' && i.requestId === requestId && i.callId === callId
  );
}

/** A streamed piece of text goes into the request's open reply, or opens one after a card. */
function appendToken(state: IChatState, requestId: string, text: string): IChatState {
  const last = state.items[state.items.length - 1];
  if (last && last.kind === 'assistant' && last.requestId === requestId && last.streaming) {
    const items = state.items.slice(0, -1);
    items.push({ ...last, text: last.text + text });
    return { ...state, items };
  }
  const reply: IAssistantItem = {
    kind: 'assistant',
    id: nextId('reply'),
    requestId,
    text,
    streaming: true
  };
  return { ...state, items: [...closeStreaming(state.items, requestId), reply] };
}

/**
 * Close the request's open reply. One that streamed only white space (the embedded model's newline before a
 * tool call) is dropped: it showed as an empty grey bubble above the card (newcomer r10).
 */
function closeStreaming(items: ChatItem[], requestId: string): ChatItem[] {
  const blank = (i: ChatItem) => i.kind === 'assistant' && i.requestId === requestId && i.streaming && !i.text.trim();
  return items.filter(i => !blank(i)).map(i =>
    i.kind === 'assistant' && i.requestId === requestId && i.streaming
      ? { ...i, streaming: false }
      : i
  );
}

/** A fresh card for a tool call (`id`: the item's key; a new one unless given). */
export function newTool(
  requestId: string,
  event: { call_id: string; name: string; arguments: Record<string, unknown>; code: string },
  id = nextId('tool')
): IToolItem {
  return {
    kind: 'tool',
    id,
    requestId,
    callId: event.call_id,
    name: event.name,
    arguments: event.arguments,
    code: event.code,
    status: 'checking',
    writesFiles: false,
    summary: '',
    durationS: null,
    estimate: '',
    steps: [],
    warnings: [],
    resume: ''
  };
}

/** How a tool card ends: the kernel's status when it sent one, else its `ok`. */
function toolEnd(event: IToolResultEvent, item: IToolItem): ToolStatus {
  if (item.status === 'denied') {
    return 'denied'; // a denied call keeps saying so; its (failed) result only adds the summary
  }
  if (event.status === 'interrupted' || (item.status === 'interrupted' && !event.ok)) {
    return 'interrupted'; // the sidebar saw the cell's KeyboardInterrupt before the result came
  }
  if (event.status) {
    return event.status === 'done' ? 'ok' : 'failed';
  }
  return event.ok ? 'ok' : 'failed';
}

function reduceEvent(state: IChatState, requestId: string, event: AgentEvent): IChatState {
  switch (event.kind) {
    case 'token':
      return appendToken(state, requestId, event.text);
    case 'tool_call': {
      if (hasTool(state, requestId, event.call_id)) {
        return updateTool(state, requestId, event.call_id, () => ({ code: event.code }));
      }
      const items = closeStreaming(state.items, requestId);
      return { ...state, items: [...items, newTool(requestId, event)] };
    }
    case 'approval_needed': {
      const change = {
        status: 'awaiting-approval' as ToolStatus,
        writesFiles: event.writes_files,
        estimate: event.estimate ?? '',
        steps: event.steps ?? [],
        warnings: event.warnings ?? []
      };
      if (hasTool(state, requestId, event.call_id)) {
        return updateTool(state, requestId, event.call_id, () => change);
      }
      const items = closeStreaming(state.items, requestId);
      return { ...state, items: [...items, { ...newTool(requestId, event), ...change }] };
    }
    case 'tool_result': {
      const change = (item: IToolItem): Partial<IToolItem> => ({
        status: toolEnd(event, item),
        summary: event.summary,
        durationS: event.duration_s,
        resume: event.resume ?? item.resume
      });
      if (!hasTool(state, requestId, event.call_id)) {
        const card = newTool(requestId, { ...event, arguments: {}, code: '' });
        return { ...state, items: [...state.items, { ...card, ...change(card) }] };
      }
      return updateTool(state, requestId, event.call_id, change);
    }
    case 'cell':
      // The cell itself arrives as run_cell; the event only feeds the kernel's record.
      return state;
    case 'error': {
      const stoppedCard = state.items.some(
        i => i.kind === 'tool' && i.requestId === requestId && i.status === 'interrupted'
      );
      if (event.where === 'user' && stoppedCard) {
        // The user's own Stop: the card already reads "interrupted — resumable" with its Resume button and
        // the footer "Stopped."; a third, red "interrupted" box only repeated them as if something broke.
        return { ...state, items: closeStreaming(state.items, requestId) };
      }
      const item: IErrorItem = {
        kind: 'error',
        id: nextId('error'),
        requestId,
        message: event.message,
        fix: event.fix,
        where: event.where
      };
      return { ...state, items: [...closeStreaming(state.items, requestId), item] };
    }
    case 'done': {
      // Cards still waiting can no longer be answered once the request is over.
      const items = closeStreaming(state.items, requestId).map(i =>
        i.kind === 'tool' && i.requestId === requestId && (i.status === 'checking' || i.status === 'running' || i.status === 'awaiting-approval' || i.status === 'approved')
          ? { ...i, status: 'failed' as ToolStatus, summary: i.summary || `not finished (${event.reason})` }
          : i
      );
      const next = updateRequest({ ...state, items }, requestId, {
        status: 'done',
        reason: event.reason,
        elapsedS: event.elapsed_s
      });
      // Whatever this request was, the kernel has loaded its router and model by now.
      const model = next.model?.loads_first ? { ...next.model, loads_first: false } : next.model;
      return { ...next, model, active: next.active === requestId ? null : next.active };
    }
  }
}

/** The kernel's conversation as chat items of no request (text only, no cards). */
function historyItems(history: IHistoryEntry[]): ChatItem[] {
  return history.map(entry =>
    entry.role === 'user'
      ? { kind: 'user', id: nextId('history'), requestId: null, text: entry.text }
      : { kind: 'assistant', id: nextId('history'), requestId: null, text: entry.text, streaming: false }
  );
}

/** Is there anything in the chat beyond what the kernel's history would restore? */
function hasLiveItems(state: IChatState): boolean {
  return state.items.some(i => i.requestId !== null);
}

export function reduce(state: IChatState, action: Action): IChatState {
  switch (action.type) {
    case 'connecting':
      return { ...state, connection: 'connecting' };
    case 'ready': {
      const history = historyItems(action.history);
      // After a restart or a settings change the kernel sends its history again: this session's
      // cards are richer than the restored text, so they stay when there are any.
      return {
        ...state,
        connection: 'ready',
        model: action.model,
        approval: action.approval ?? '',
        tools: action.tools,
        items: hasLiveItems(state) ? state.items : history
      };
    }
    case 'asked':
      // A %%ask cell's question and reply, asked while this chat was open: in the chat as the kernel's history is.
      return { ...state, items: [...state.items, ...historyItems(action.history)] };
    case 'restarting': {
      // A restart ends whatever the old kernel was doing.
      let next: IChatState = { ...state, connection: 'restarting' };
      if (state.active) {
        next = reduceEvent(next, state.active, {
          kind: 'done',
          reason: 'interrupted',
          steps: 0,
          tokens: 0,
          elapsed_s: 0
        });
      }
      return next;
    }
    case 'closed': {
      let next: IChatState = { ...state, connection: 'closed' };
      if (state.active) {
        next = reduceEvent(next, state.active, {
          kind: 'done',
          reason: 'interrupted',
          steps: 0,
          tokens: 0,
          elapsed_s: 0
        });
      }
      const item: IErrorItem = {
        kind: 'error',
        id: nextId('error'),
        requestId: null,
        message: action.message,
        fix: action.fix,
        where: 'connection'
      };
      return { ...next, items: [...next.items, item] };
    }
    case 'ask': {
      const kind = action.kind ?? 'ask';
      const request: IRequestState = {
        id: action.requestId,
        kind,
        status: 'running',
        reason: '',
        elapsedS: 0,
        cells: [],
        undone: false,
        startedAt: action.at
      };
      const item: IUserItem = {
        kind: 'user',
        id: nextId('user'),
        requestId: action.requestId,
        text: action.prompt,
        request: kind
      };
      return {
        ...state,
        items: [...state.items, item],
        requests: { ...state.requests, [action.requestId]: request },
        active: action.requestId
      };
    }
    case 'event':
      if (!state.requests[action.requestId]) {
        return state; // a request of an earlier page load; nothing here to update
      }
      return reduceEvent(state, action.requestId, action.event);
    case 'approval-sent':
      return updateTool(state, action.requestId, action.callId, item =>
        item.status === 'awaiting-approval'
          ? { status: action.approved ? 'approved' : 'denied' }
          : {}
      );
    case 'stop-sent': {
      const request = state.requests[action.requestId];
      return request && request.status === 'running'
        ? updateRequest(state, action.requestId, { status: 'stopping' })
        : state;
    }
    case 'cell-inserted': {
      const request = state.requests[action.requestId];
      return request
        ? updateRequest(state, action.requestId, { cells: [...request.cells, action.cellId] })
        : state;
    }
    case 'undone':
      return updateRequest(state, action.requestId, { undone: true });
    case 'restore': {
      // Cards rebuilt from the notebook's records (a reload): only into a chat with nothing live.
      if (hasLiveItems(state)) {
        return state;
      }
      const requests = { ...state.requests };
      for (const request of action.requests) {
        requests[request.id] = request;
      }
      return { ...state, items: action.items, requests };
    }
    case 'tool-update':
      return updateTool(state, action.requestId, action.callId, () => action.change);
    case 'error': {
      const item: IErrorItem = {
        kind: 'error',
        id: nextId('error'),
        requestId: action.requestId,
        message: action.message,
        fix: action.fix,
        where: action.where
      };
      return { ...state, items: [...state.items, item] };
    }
  }
}

/** Can the user undo this request's cells now? Only once it is over, and only once. */
export function canUndo(request: IRequestState | undefined): boolean {
  return !!request && request.status === 'done' && !request.undone && request.cells.length > 0;
}

/** Short human text for how a request ended, or '' when it simply finished. */
export function describeEnd(request: IRequestState, resumed = false): string {
  switch (request.reason) {
    case '':
    case 'finished':
      return '';
    case 'stopped':
      // Its stopped card was resumed and finished since: "Stopped." alone under a done card read as lost work.
      return resumed ? 'Stopped, then resumed from its card.' : 'Stopped.';
    case 'restored':
      return '';
    case 'interrupted':
      return 'Interrupted (the kernel restarted or the connection closed).';
    case 'error':
      return 'Ended with an error.';
    default:
      if (request.reason.startsWith('budget:')) {
        return `Stopped: the ${request.reason.slice(7)} budget ran out.`;
      }
      return `Ended: ${request.reason}.`;
  }
}

/** "1.2 s", "2 min 5 s": tool card durations. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !isFinite(seconds)) {
    return '';
  }
  if (seconds < 10) {
    return `${seconds.toFixed(1)} s`;
  }
  if (seconds < 60) {
    return `${Math.round(seconds)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

/**
 * What a working request is doing now, in a person's words: a request can spend minutes in a
 * simulation's cell or waiting on an approval card further up, and "Working…" alone reads as stuck.
 */
export function activity(state: IChatState, requestId: string): string {
  const request = state.requests[requestId];
  if (!request || request.status === 'done') {
    return '';
  }
  if (request.status === 'stopping') {
    return 'Stopping…';
  }
  const own = state.items.filter(i => i.requestId === requestId);
  const tools = own.filter((i): i is IToolItem => i.kind === 'tool');
  const waiting = tools.find(t => t.status === 'awaiting-approval');
  if (waiting) {
    return `Waiting for your approval of ${waiting.name} (Approve or Deny on its card)`;
  }
  const running = tools.find(t => t.status === 'running' || t.status === 'approved');
  if (running) {
    return `Running ${running.name} in the notebook`;
  }
  const checking = tools.find(t => t.status === 'checking');
  if (checking) {
    return `Checking the cost and files of ${checking.name}`;
  }
  const last = own[own.length - 1];
  if (last && last.kind === 'assistant' && last.streaming) {
    return 'Writing the reply';
  }
  if (!own.some(i => i.kind !== 'user') && state.model?.loads_first) {
    // A newcomer's first request sat 40 s on "choosing the next step" while torch and the router loaded.
    return 'Loading the tool router and the model (first request in this kernel; up to a minute on a busy machine)';
  }
  return 'The model is choosing the next step';
}

/** A card whose resume cell runs now (outside any request): the chat waits for it. */
export function resumingTool(state: IChatState): IToolItem | undefined {
  return state.items.find((i): i is IToolItem => i.kind === 'tool' && i.status === 'resuming');
}
