/**
 * The chat of a reloaded notebook, rebuilt from `notebook.metadata.kenkyu.records`: the question,
 * the replies and each tool's card (name, result, duration) with its request's Undo.
 *
 * The kernel's record holds the conversation (`messages`) and the cells; what only the sidebar
 * knew (a card's status, summary, duration, resume code, and the request id its cells carry) is
 * filed with the record as `record.sidebar` by `sidebarNote`. Plain functions, tested by jest.
 */

import { newTool } from './chatState';
import type { ChatItem, IChatState, IErrorItem, IRequestState, IToolItem, ToolStatus } from './chatState';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** What a reload needs of one tool card that the record itself does not hold. */
export interface ISidebarTool {
  call_id: string;
  name: string;
  status: ToolStatus;
  summary: string;
  duration_s: number | null;
  resume?: string;
}

/** An error shown under a request (the model's reply did not parse, a tool's setup failed). */
export interface ISidebarError {
  message: string;
  fix: string;
  where: string;
}

export interface ISidebarNote {
  request_id: string;
  tools: ISidebarTool[];
  /** A turn the kernel wrote without this sidebar (a %%ask cell): its question and reply, as text, no cards. */
  text_only?: boolean;
  /** The request's errors: the kernel's record does not hold them, and a reload showed only "Ended with an error". */
  errors?: ISidebarError[];
}

/** The cards of one request, as the sidebar files them with its record. */
export function sidebarNote(state: IChatState, requestId: string): ISidebarNote {
  const tools = state.items
    .filter((i): i is IToolItem => i.kind === 'tool' && i.requestId === requestId)
    .map(card => {
      const tool: ISidebarTool = {
        call_id: card.callId,
        name: card.name,
        status: card.status,
        summary: card.summary,
        duration_s: card.durationS
      };
      if (card.resume) {
        tool.resume = card.resume;
      }
      return tool;
    });
  const errors = state.items
    .filter((i): i is IErrorItem => i.kind === 'error' && i.requestId === requestId)
    .map(({ message, fix, where }) => ({ message, fix, where }));
  return errors.length ? { request_id: requestId, tools, errors } : { request_id: requestId, tools };
}

/**
 * Did a cell end on the notebook's interrupt (Stop, or the notebook's own stop button)? Tools that
 * keep their work raise a KeyboardInterrupt subclass named for it (md.run's RunInterrupted).
 */
export function wasInterrupted(outputs: unknown[]): boolean {
  return outputs.some(
    o => isObject(o) && o['output_type'] === 'error' && /Interrupt/.test(typeof o['ename'] === 'string' ? o['ename'] : '')
  );
}

/**
 * What a cell's error says ("RunInterrupted: Run in … nothing was kept."), for a card whose resume cell
 * stopped or failed: "resume interrupted" alone could not tell kept work from none.
 */
export function errorLine(outputs: unknown[]): string {
  const error = outputs.find((o): o is Json => isObject(o) && o['output_type'] === 'error');
  if (!error) {
    return '';
  }
  const [name, value] = [error['ename'], error['evalue']].map(part => (typeof part === 'string' ? part : ''));
  return value ? `${name}: ${value}` : name;
}

/** The status a restored card shows: the sidebar's note, else what the record's cell says. */
function recordedStatus(record: Json, callId: string): ToolStatus {
  const cells = Array.isArray(record['cells']) ? (record['cells'] as unknown[]) : [];
  const cell = cells.find(
    c => isObject(c) && isObject(c['metadata']) && isObject(c['metadata']['kenkyu']) && c['metadata']['kenkyu']['call_id'] === callId
  ) as Json | undefined;
  if (!cell) {
    return 'failed'; // never ran (declined, or the request ended first)
  }
  const outputs = Array.isArray(cell['outputs']) ? (cell['outputs'] as unknown[]) : [];
  if (wasInterrupted(outputs)) {
    return 'interrupted';
  }
  return outputs.some(o => isObject(o) && o['output_type'] === 'error') ? 'failed' : 'ok';
}

/** The source of the record's code cell for a call ('' when it never ran). */
function callSource(record: Json, callId: string): string {
  const cells = Array.isArray(record['cells']) ? (record['cells'] as unknown[]) : [];
  const cell = cells.find(
    c => isObject(c) && isObject(c['metadata']) && isObject(c['metadata']['kenkyu']) && c['metadata']['kenkyu']['call_id'] === callId
  ) as Json | undefined;
  const source = cell ? cell['source'] : '';
  return Array.isArray(source) ? source.join('') : text(source);
}

/**
 * A call's arguments in the order its cell writes them. The notebook stores metadata with sorted keys, so a
 * card came back from a reload as "ps, seed, solvent, structure" after it had read "structure, ps, solvent,
 * seed" (newcomer r10): the cell's own order is the one the person saw.
 */
export function inCallOrder(args: Json, source: string): Json {
  const at = (key: string) => {
    const found = new RegExp(`\\b${key.replace(/[^\w]/g, '')}\\s*=`).exec(source);
    return found ? found.index : Number.MAX_SAFE_INTEGER;
  };
  const keys = Object.keys(args);
  const ordered = [...keys].sort((a, b) => at(a) - at(b) || keys.indexOf(a) - keys.indexOf(b));
  return Object.fromEntries(ordered.map(key => [key, args[key]]));
}

function card(requestId: string, id: string, callId: string, name: string, args: Json): IToolItem {
  return { ...newTool(requestId, { call_id: callId, name, arguments: args, code: '' }, id), status: 'ok' };
}

/**
 * The items and requests of the stored records, in order. Each request's Undo covers the notebook
 * cells that carry its request id and are still there.
 */
export function restoreFromRecords(
  records: Json[],
  cells: { id: string; kenkyu: Json }[]
): { items: ChatItem[]; requests: IRequestState[] } {
  const items: ChatItem[] = [];
  const requests: IRequestState[] = [];
  records.forEach((record, index) => {
    const note = isObject(record['sidebar']) ? (record['sidebar'] as unknown as ISidebarNote) : null;
    const requestId = note && text(note.request_id) ? note.request_id : `restored-${index}`;
    const tools = new Map((note && Array.isArray(note.tools) ? note.tools : []).map(t => [t.call_id, t]));
    const kind = record['kind'] === 'research' ? 'research' : 'ask';
    items.push({ kind: 'user', id: `restored-${index}-q`, requestId, text: text(record['prompt']), request: kind });
    const summaries = new Map<string, string>();
    const messages = Array.isArray(record['messages']) ? (record['messages'] as unknown[]).filter(isObject) : [];
    for (const message of messages) {
      if (message['role'] === 'tool') {
        summaries.set(text(message['tool_call_id']), text(message['content']));
      }
    }
    messages.forEach((message, m) => {
      if (message['role'] !== 'assistant') {
        return;
      }
      if (text(message['content']).trim()) {
        items.push({
          kind: 'assistant',
          id: `restored-${index}-${m}`,
          requestId,
          text: text(message['content']),
          streaming: false
        });
      }
      if (note?.text_only) {
        return; // the %%ask cell holds the steps; the chat showed its text only
      }
      const calls = Array.isArray(message['tool_calls']) ? (message['tool_calls'] as unknown[]).filter(isObject) : [];
      for (const call of calls) {
        const callId = text(call['id']);
        const noted = tools.get(callId);
        const args = inCallOrder(isObject(call['arguments']) ? call['arguments'] : {}, callSource(record, callId));
        const item = card(requestId, `restored-${index}-${callId}`, callId, text(call['name']), args);
        item.status = noted?.status ?? recordedStatus(record, callId);
        item.summary = noted?.summary ?? summaries.get(callId) ?? '';
        item.durationS = typeof noted?.duration_s === 'number' ? noted.duration_s : null;
        item.resume = noted?.resume ?? '';
        items.push(item);
      }
    });
    // Cards of tools the messages do not name (a research record's steps) come from the note.
    for (const tool of tools.values()) {
      if (!items.some(i => i.kind === 'tool' && i.requestId === requestId && i.callId === tool.call_id)) {
        const item = card(requestId, `restored-${index}-${tool.call_id}`, tool.call_id, tool.name, {});
        Object.assign(item, { status: tool.status, summary: tool.summary, durationS: tool.duration_s, resume: tool.resume ?? '' });
        items.push(item);
      }
    }
    const errors = note && Array.isArray(note.errors) ? note.errors.filter(isObject) : [];
    errors.forEach((error, e) =>
      items.push({
        kind: 'error',
        id: `restored-${index}-error-${e}`,
        requestId,
        message: text(error['message']),
        fix: text(error['fix']),
        where: text(error['where'])
      })
    );
    const ids = cells.filter(c => c.kenkyu['request_id'] === requestId).map(c => c.id);
    const done = isObject(record['done']) ? record['done'] : {};
    requests.push({
      id: requestId,
      kind,
      status: 'done',
      reason: text(done['reason']) || 'finished',
      elapsedS: typeof done['elapsed_s'] === 'number' ? (done['elapsed_s'] as number) : 0,
      cells: ids,
      // Undo already used: the record marks its cells removed, and none is left in the notebook.
      undone: ids.length === 0 && recordHasRemovedCells(record),
      restored: true
    });
  });
  return { items, requests };
}

function recordHasRemovedCells(record: Json): boolean {
  const cells = Array.isArray(record['cells']) ? (record['cells'] as unknown[]) : [];
  return cells.some(
    c => isObject(c) && isObject(c['metadata']) && isObject(c['metadata']['kenkyu']) && c['metadata']['kenkyu']['removed'] === true
  );
}
