/**
 * %%ask turns are kept in the notebook's records (newcomer r12, trip 11): a question asked in a %%ask cell while
 * the chat was open appeared in the chat, but it was never filed in `metadata.kenkyu.records`, so a page reload
 * showed only the sidebar's own requests. Now the kernel sends the cell's record with `asked`, and the kernel's
 * records the page lacks (cells asked while no chat was open) with `ready`; the sidebar files them in order.
 */
import { ChatSession, IComm, ICellRun, IKernelLink, INotebookDriver } from '../chatSession';
import { EMPTY_SETTINGS } from '../protocol';
import { recordsOf, withKernelRecords } from '../records';
import { restoreFromRecords } from '../restore';
import { expectValid } from './protocolSchema';

type Json = Record<string, any>;

class Kernel implements IKernelLink {
  opened: Json[] = [];
  private onMessage: ((data: unknown) => void) | null = null;
  async register(): Promise<void> {}
  openComm(_target: string, data: Json, onMessage: (data: unknown) => void): IComm {
    this.opened.push(data);
    this.onMessage = onMessage;
    return { send: () => undefined, close: () => undefined };
  }
  say(data: Json): void {
    expectValid(data, 'kernelMessage');
    this.onMessage!(data);
  }
}

class Notebook implements INotebookDriver {
  kenkyu: unknown = undefined;
  takeChosenCell = () => null;
  interrupt = async () => undefined;
  save = async () => undefined;
  condenseErrors = () => undefined;
  notebookCells = () => [];
  insertCell = () => 'c';
  runCell = async (): Promise<ICellRun> => ({ status: 'ok', outputs: [], executionCount: 1 });
  removeCells = () => [];
  getKenkyuMetadata = () => this.kenkyu;
  setKenkyuMetadata = (value: Json) => {
    this.kenkyu = value;
  };
  contextCells = () => [];
}

const READY = { type: 'ready', model: { provider: 'replay', model: 't', label: 'replay · t' }, approval: 'ask', tools: [] };

function askRecord(prompt: string, reply: string, started: string, withCall = false): Json {
  const call = { id: 'c1', name: 'analysis_rmsd', arguments: { trajectory: 'traj' } };
  return {
    version: 1,
    prompt,
    started,
    cells: [],
    done: { kind: 'done', reason: 'finished', steps: 1, tokens: 0, elapsed_s: 0.4 },
    messages: [
      { role: 'user', content: prompt },
      ...(withCall ? [{ role: 'assistant', content: '', tool_calls: [call] }] : []),
      { role: 'assistant', content: reply }
    ]
  };
}

const CELL_ASK = askRecord('how many residues does villin have?', "Villin's headpiece has 36 residues.", '2026-12-01T14:00:00', true);
const SIDEBAR = { ...askRecord('plot the RMSD', 'RMSD done.', '2026-12-01T14:05:00'), sidebar: { request_id: 'r1', tools: [] } };

function chatTexts(records: Json[]): string[] {
  return restoreFromRecords(records, []).items.map(i => `${i.kind}: ${(i as any).text ?? (i as any).name}`);
}

describe('a %%ask turn asked while the chat is open', () => {
  it('is filed in the notebook records with its record, and a reload shows it as the chat did', async () => {
    const kernel = new Kernel();
    const notebook = new Notebook();
    const session = new ChatSession(notebook, EMPTY_SETTINGS);
    await session.connect(kernel);
    kernel.say({ ...READY, history: [] });
    kernel.say({
      type: 'asked',
      history: [
        { role: 'user', text: CELL_ASK.prompt },
        { role: 'assistant', text: "Villin's headpiece has 36 residues." }
      ],
      record: CELL_ASK
    });
    const records = recordsOf(notebook.kenkyu);
    expect(records).toHaveLength(1);
    expect(records[0].prompt).toBe(CELL_ASK.prompt);
    expect(records[0].sidebar).toMatchObject({ text_only: true, origin: 'cell' });
    // After a reload the chat reads as it did live: the question and the reply, no card the chat never showed.
    expect(chatTexts(records)).toEqual([`user: ${CELL_ASK.prompt}`, "assistant: Villin's headpiece has 36 residues."]);
  });
});

describe('%%ask turns asked before the chat opened', () => {
  it('are filed from ready in the kernel order, around the sidebar records the notebook holds', async () => {
    const kernel = new Kernel();
    const notebook = new Notebook();
    notebook.kenkyu = { records: [SIDEBAR], other: 'kept' };
    const session = new ChatSession(notebook, EMPTY_SETTINGS);
    await session.connect(kernel);
    const later = askRecord('why did that fail?', 'IndexError: index 40 is out of bounds', '2026-12-01T14:09:00');
    kernel.say({ ...READY, history: [], records: [CELL_ASK, SIDEBAR, later] });
    const records = recordsOf(notebook.kenkyu);
    expect(records.map(r => r.prompt)).toEqual([CELL_ASK.prompt, 'plot the RMSD', 'why did that fail?']);
    expect(records[1].sidebar).toEqual({ request_id: 'r1', tools: [] }); // the sidebar's own note kept
    expect(records[0].sidebar).toMatchObject({ text_only: true, origin: 'kernel' });
    expect((notebook.kenkyu as Json).other).toBe('kept');
    const texts = session.state.items.map(i => (i as any).text);
    expect(texts).toEqual([CELL_ASK.prompt, "Villin's headpiece has 36 residues.", 'plot the RMSD', 'RMSD done.',
      'why did that fail?', 'IndexError: index 40 is out of bounds']);
  });

  it('leave records that are not the kernel ones with some left out as they are', () => {
    const other = askRecord('something else', 'x', '2026-12-01T13:00:00');
    const metadata = { records: [other] };
    expect(recordsOf(withKernelRecords(metadata, [CELL_ASK, SIDEBAR]))).toEqual([other]);
    expect(recordsOf(withKernelRecords({ records: [SIDEBAR] }, [SIDEBAR]))).toEqual([SIDEBAR]);
  });
});
