/**
 * The conversation saved in the notebook: `notebook.metadata.kenkyu.records`.
 *
 * Pure functions from the old `kenkyu` metadata object to the new one (never mutating), so the
 * notebook model is written in one place and the rules are unit-tested.
 */

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The stored records of a notebook's `kenkyu` metadata (a list, possibly empty). */
export function recordsOf(kenkyuMetadata: unknown): Json[] {
  if (!isObject(kenkyuMetadata) || !Array.isArray(kenkyuMetadata['records'])) {
    return [];
  }
  return (kenkyuMetadata['records'] as unknown[]).filter(isObject);
}

/** The `kenkyu` metadata with one more record appended; other keys are kept. */
export function withRecord(kenkyuMetadata: unknown, record: Json): Json {
  const base = isObject(kenkyuMetadata) ? kenkyuMetadata : {};
  return { ...base, records: [...recordsOf(base), record] };
}

/**
 * The note filed with a record the kernel wrote without this sidebar (a %%ask cell): no cards, the chat shows its
 * question and reply as text, as it did live. `origin` says where it came from: 'cell' (a %%ask cell asked while the
 * chat was open) or 'kernel' (in the kernel's conversation when the chat connected, not in the notebook yet).
 */
export function keptNote(requestId: string, origin: 'cell' | 'kernel'): Json {
  return { request_id: requestId, tools: [], text_only: true, origin };
}

function sameTurn(a: Json, b: Json): boolean {
  return a['prompt'] === b['prompt'] && a['started'] === b['started'];
}

/**
 * The `kenkyu` metadata with the kernel's records the notebook lacks filed in the kernel's order (each with
 * `keptNote(…, 'kernel')`); the notebook's own records keep their notes. Unchanged when the notebook's records are
 * not the kernel's with some left out (then they are the conversation, and the kernel took them from hello).
 */
export function withKernelRecords(kenkyuMetadata: unknown, kernelRecords: Json[]): Json {
  const base = isObject(kenkyuMetadata) ? kenkyuMetadata : {};
  const stored = recordsOf(base);
  const merged: Json[] = [];
  let next = 0;
  kernelRecords.forEach((record, index) => {
    if (next < stored.length && sameTurn(stored[next], record)) {
      merged.push(stored[next++]);
    } else {
      merged.push({ ...record, sidebar: keptNote(`kernel-${index}-${String(record['started'] ?? '')}`, 'kernel') });
    }
  });
  if (next < stored.length || merged.length === stored.length) {
    return { ...base, records: stored };
  }
  return { ...base, records: merged };
}

/**
 * Mark the cells that Undo took out of the notebook: `metadata.kenkyu.removed = true` on each cell
 * of the record whose source matches a removed cell (one mark per removed cell, in order), so the
 * history stays complete and a report can leave them out.
 */
export function markRemoved(record: Json, removedSources: string[]): Json {
  const cells = Array.isArray(record['cells']) ? (record['cells'] as unknown[]) : [];
  const left = [...removedSources];
  const marked = cells.map(cell => {
    if (!isObject(cell)) {
      return cell;
    }
    const at = left.indexOf(typeof cell['source'] === 'string' ? (cell['source'] as string) : '');
    if (at < 0) {
      return cell;
    }
    left.splice(at, 1);
    const metadata = isObject(cell['metadata']) ? cell['metadata'] : {};
    const kenkyu = isObject(metadata['kenkyu']) ? metadata['kenkyu'] : {};
    return { ...cell, metadata: { ...metadata, kenkyu: { ...kenkyu, removed: true } } };
  });
  return { ...record, cells: marked };
}

/** The `kenkyu` metadata with record `index` replaced by `markRemoved(record, sources)`. */
export function withRemovedCells(kenkyuMetadata: unknown, index: number, removedSources: string[]): Json {
  const base = isObject(kenkyuMetadata) ? kenkyuMetadata : {};
  const records = recordsOf(base);
  if (index < 0 || index >= records.length) {
    return { ...base, records };
  }
  const next = records.slice();
  next[index] = markRemoved(records[index], removedSources);
  return { ...base, records: next };
}

/** Is this cell metadata the agent's (metadata.kenkyu.agent === true)? */
export function isAgentCell(cellMetadata: unknown): boolean {
  return isObject(cellMetadata) && isObject(cellMetadata['kenkyu']) && cellMetadata['kenkyu']['agent'] === true;
}

/** Cell metadata for an inserted cell: what the kernel asked for, always marked as the agent's. */
export function agentCellMetadata(requested: Json, requestId: string): Json {
  const kenkyu = isObject(requested['kenkyu']) ? requested['kenkyu'] : {};
  return { ...requested, kenkyu: { ...kenkyu, agent: true, request_id: requestId } };
}

/**
 * Where to put a cell the agent asked for: below `afterCellId` when it is still there, else at the
 * end, so a conversation's cells read top to bottom in the order they were asked for (the active
 * cell is not a choice: on a fresh page it is the first cell). Returns an index into the cells.
 */
export function insertionIndex(cellIds: string[], afterCellId: string | null): number {
  if (afterCellId) {
    const at = cellIds.indexOf(afterCellId);
    if (at >= 0) {
      return at + 1;
    }
  }
  return cellIds.length;
}

/** The notebook's active cell, as the placement rule reads it. */
export interface IActiveCell {
  id: string;
  source: string;
  kenkyu: unknown;
}

/**
 * The place the user chose for a request's cells, or null: then they go below everything the conversation wrote
 * (the end of the notebook). A choice is an empty cell of the user's (added with B or +, where the answer should
 * go) that they moved to since the last request and that is still active when they ask. A click to read a cell
 * is none: after a reload, the click that focused the notebook put the next answer's cells in the middle of
 * earlier work (newcomer r8).
 */
export function chosenPlace(activatedSinceAsked: string | null, active: IActiveCell | null): string | null {
  if (!activatedSinceAsked || !active || active.id !== activatedSinceAsked) {
    return null;
  }
  if (isAgentCell({ kenkyu: active.kenkyu }) || active.source.trim() !== '') {
    return null;
  }
  return active.id;
}

/** `Name: message` of an error output (one readable line), without the terminal colour codes. */
export function errorLine(output: Json): string {
  // eslint-disable-next-line no-control-regex
  const strip = (text: unknown) => String(text ?? '').replace(/\u001b\[[0-9;]*m/g, '');
  const evalue = strip(output['evalue']).trim();
  return evalue ? `${strip(output['ename'])}: ${evalue}` : strip(output['ename']);
}

/**
 * What a finished cell's value says, in a line or two: the head of its execute_result (Markdown, else plain
 * text), without the notebook's own formatting. A resumed run's card showed only "resumed and finished (its cell
 * holds the outputs)", the numbers a scroll away in the notebook (newcomer r8). '' when the cell showed no value.
 */
export function resultHead(outputs: unknown[], lines = 2): string {
  const result = (outputs as Json[]).find(o => o?.['output_type'] === 'execute_result');
  const data = (result?.['data'] ?? {}) as Record<string, unknown>;
  const text = data['text/markdown'] ?? data['text/plain'];
  const joined = Array.isArray(text) ? text.join('') : String(text ?? '');
  return joined
    .split('\n')
    .map(line => line.replace(/^#+\s*/, '').replace(/\*\*/g, '').trim())
    .filter(line => line.length > 0)
    .slice(0, lines)
    .join('\n');
}
