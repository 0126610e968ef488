/**
 * One notebook's conversation with its kernel: the protocol of PROTOCOL.md driven end to end.
 *
 * It talks to JupyterLab only through two small interfaces (the kernel link and the notebook
 * driver, implemented in labAdapters.ts), so jest runs the whole exchange — hello, streaming,
 * approvals, run_cell → cell_result, records, undo, restarts — against fakes, without a browser.
 */

import {
  ISettings,
  IContextCell,
  CellStatus,
  COMM_TARGET,
  ProtocolError,
  parseKernelMessage,
  helloMessage,
  approveMessage,
  parsePrompt,
  requestMessage,
  stopMessage,
  cellResultMessage,
  settingsMessage,
  IRunCellMessage
} from './protocol';
import { Action, IChatState, IToolItem, INITIAL_STATE, canUndo, reduce } from './chatState';
import {
  agentCellMetadata,
  keptNote,
  markRemoved,
  recordsOf,
  resultHead,
  withKernelRecords,
  withRecord,
  withRemovedCells
} from './records';
import { errorLine, restoreFromRecords, sidebarNote, wasInterrupted } from './restore';
import { rerunFinished } from './fixes';

type Json = Record<string, unknown>;

export interface IComm {
  send(data: Json): void;
  close(): void;
}

/** What the session needs from a kernel. */
export interface IKernelLink {
  /** Run the protocol's register code silently; rejects with an Error saying what failed. */
  register(): Promise<void>;
  openComm(target: string, data: Json, onMessage: (data: unknown) => void, onClose: () => void): IComm;
}

export interface ICellRun {
  status: CellStatus;
  outputs: unknown[];
  executionCount: number | null;
  /** Why a cell was cancelled (the agent reads it). */
  reason?: string;
}

/** What the session needs from a notebook. */
export interface INotebookDriver {
  /** Insert a cell below `afterCellId` (at the end when null); returns the new cell's id. */
  insertCell(cellType: 'code' | 'markdown', source: string, metadata: Json, afterCellId: string | null): string;
  /**
   * The cell the user chose since the last call (an empty cell of theirs, see records.chosenPlace), or null:
   * a request's cells go below it; otherwise below everything the conversation wrote (the end of the notebook).
   */
  takeChosenCell(): string | null;
  /** Interrupt the kernel, as the notebook's own stop button does. */
  interrupt(): Promise<void>;
  /**
   * Show a failed cell's error as one readable line (`Name: message`) instead of the traceback;
   * the kernel's record keeps the full outputs.
   */
  condenseErrors(cellId: string): void;
  /** Save the notebook through JupyterLab's own save (outputs and records on disk). */
  save(): Promise<void>;
  /** Every cell's id and `kenkyu` metadata ({} when none), in order (places cells, restores Undo). */
  notebookCells(): { id: string; kenkyu: Json }[];
  /** Run a code cell through the notebook's normal execution. */
  runCell(cellId: string): Promise<ICellRun>;
  /** Remove cells that are still there; returns the sources of those removed. */
  removeCells(cellIds: string[]): string[];
  getKenkyuMetadata(): unknown;
  setKenkyuMetadata(value: Json): void;
  /** The notebook's cells, handed to the agent as context. */
  contextCells(): IContextCell[];
}

export interface IError {
  message: string;
  fix: string;
}

let requestCounter = 0;

/** Request ids only need to be unique per kernel; time + counter keeps them readable in logs. */
export function newRequestId(): string {
  requestCounter += 1;
  return `r${Date.now().toString(36)}-${requestCounter}`;
}

export class ChatSession {
  constructor(
    private readonly driver: INotebookDriver,
    private settings: ISettings
  ) {}

  get state(): IChatState {
    return this._state;
  }

  /** Called after every state change (the panel re-renders). */
  onChange(listener: (state: IChatState) => void): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  /** Register the target, open the comm with hello. Called on first show and after every restart. */
  async connect(link: IKernelLink): Promise<void> {
    this._closeComm();
    const attempt = ++this._attempt;
    this.dispatch({ type: 'connecting' });
    try {
      await link.register();
    } catch (error) {
      if (attempt === this._attempt) {
        this.dispatch({
          type: 'closed',
          message: `kenkyu could not start in this notebook's kernel: ${(error as Error).message}`,
          fix: "install kenkyu in the kernel's environment (pip install kenkyu), or choose a kernel that has it"
        });
      }
      return;
    }
    if (attempt !== this._attempt || this._disposed) {
      return; // a restart or another connect overtook this one
    }
    const records = recordsOf(this.driver.getKenkyuMetadata());
    const comm = link.openComm(
      COMM_TARGET,
      helloMessage(this.settings, records),
      data => this.handle(data),
      () => {
        if (this._comm === comm) {
          this._comm = null;
          if (!this._restarting && !this._disposed) {
            this.dispatch({
              type: 'closed',
              message: 'the kernel closed the chat connection',
              fix: 'restart the kernel, or reload the page, to reconnect'
            });
          }
        }
      }
    );
    this._comm = comm;
    this._restarting = false;
  }

  /** The kernel is restarting (or changed): its comm is gone; connect() follows when it is back. */
  kernelRestarting(): void {
    this._restarting = true;
    this._attempt++;
    this._comm = null;
    for (const pending of this._pendingRuns) {
      pending.cancelled = true;
    }
    this.dispatch({ type: 'restarting' });
  }

  /** Send what the user typed: a question (ask), or "/research QUESTION" (the research loop). */
  ask(typed: string): string | null {
    if (!typed.trim()) {
      return null;
    }
    const { kind, prompt } = parsePrompt(typed);
    if (!prompt) {
      this.dispatch({
        type: 'error',
        requestId: null,
        message: 'write the research question after /research',
        fix:
          'e.g. /research Does {structure} stay folded? Run a 10 ps simulation of {structure} in implicit ' +
          'solvent, then compute the RMSD of the trajectory',
        where: 'sidebar'
      });
      return null;
    }
    if (!this._comm || this._state.connection !== 'ready') {
      this.dispatch({
        type: 'error',
        requestId: null,
        message: 'the chat is not connected to a kernel yet',
        fix: "wait for the model indicator to show a model, or start the notebook's kernel",
        where: 'sidebar'
      });
      return null;
    }
    if (this._state.active) {
      return null; // one request at a time; the panel disables the input meanwhile
    }
    const requestId = newRequestId();
    this._anchor.set(requestId, this.driver.takeChosenCell());
    this.dispatch({ type: 'ask', requestId, prompt, kind, at: Date.now() });
    this._comm.send(requestMessage(kind, requestId, prompt, this.driver.contextCells()));
    return requestId;
  }

  approve(requestId: string, callId: string, approved: boolean): void {
    this._send(approveMessage(requestId, callId, approved));
    this.dispatch({ type: 'approval-sent', requestId, callId, approved });
  }

  /**
   * Stop: the kernel is asked to end the request and, when one of its cells is running, the kernel
   * is interrupted as the notebook's stop button does (a `stop` alone only ends the request after
   * the running cell, which for a simulation can be minutes). The interrupted tool stays resumable.
   */
  stop(requestId: string): void {
    this._send(stopMessage(requestId));
    this.dispatch({ type: 'stop-sent', requestId });
    if (this._running?.requestId === requestId) {
      void this.driver.interrupt().catch(error =>
        this.dispatch({
          type: 'error',
          requestId,
          message: `could not interrupt the kernel: ${(error as Error).message}`,
          fix: "use the notebook's stop button (Kernel → Interrupt Kernel)",
          where: 'notebook'
        })
      );
    }
  }

  /**
   * Resume an interrupted tool (or rerun a failed one with its fix): its `resume` code goes into the
   * notebook as an agent cell below the conversation and runs there, so its outputs are the
   * notebook's like any other; the card follows the run.
   */
  async resume(requestId: string, callId: string, code?: string): Promise<void> {
    const card = this._state.items.find(
      (i): i is IToolItem => i.kind === 'tool' && i.requestId === requestId && i.callId === callId
    );
    const source = code ?? card?.resume;
    if (!card || !source || this._state.active || card.status === 'resuming') {
      return;
    }
    const metadata = agentCellMetadata({ kenkyu: { agent: true, tool: card.name, call_id: callId, role: 'resume' } }, requestId);
    const cellId = this.driver.insertCell('code', source, metadata, null);
    this.dispatch({ type: 'cell-inserted', requestId, cellId });
    const started = Date.now();
    this.dispatch({ type: 'tool-update', requestId, callId, change: { status: 'resuming', startedAt: started } });
    this._resuming = cellId;
    const run = await this.driver
      .runCell(cellId)
      .catch((error: Error): ICellRun => ({ status: 'cancelled', outputs: [], executionCount: null, reason: error.message }))
      .finally(() => {
        this._resuming = null;
      });
    const status = run.status === 'ok' ? 'ok' : wasInterrupted(run.outputs) ? 'interrupted' : 'failed';
    if (run.status === 'error') {
      this.driver.condenseErrors(cellId);
    }
    this.dispatch({
      type: 'tool-update',
      requestId,
      callId,
      change: {
        status,
        durationS: (Date.now() - started) / 1000,
        summary:
          status === 'ok'
            ? [rerunFinished(card.summary), resultHead(run.outputs)].filter(Boolean).join(': ')
            : errorLine(run.outputs) || run.reason || `resume ${status}`
      }
    });
    this._noteCards(requestId);
    await this._save();
  }

  /**
   * Stop a resumed run: its cell runs outside any request, so the request's Stop is gone; the kernel
   * is interrupted as the notebook's stop button does, and the card reads "interrupted — resumable" again.
   */
  stopResume(): void {
    if (this._resuming === null) {
      return;
    }
    void this.driver.interrupt().catch(error =>
      this.dispatch({
        type: 'error',
        requestId: null,
        message: `could not interrupt the kernel: ${(error as Error).message}`,
        fix: "use the notebook's stop button (Kernel → Interrupt Kernel)",
        where: 'notebook'
      })
    );
  }

  /** Remove the cells a finished request inserted, and mark them removed in its record. */
  undo(requestId: string): void {
    const request = this._state.requests[requestId];
    if (!canUndo(request)) {
      return;
    }
    const removed = this.driver.removeCells(request.cells);
    const index = this._recordIndex.get(requestId);
    if (index === undefined) {
      this._removedBeforeRecord.set(requestId, removed); // applied when the record arrives
    } else {
      this.driver.setKenkyuMetadata(withRemovedCells(this.driver.getKenkyuMetadata(), index, removed));
    }
    this.dispatch({ type: 'undone', requestId });
    void this._save(); // the notebook on disk matches what the user sees; the record keeps the cells
  }

  updateSettings(settings: ISettings): void {
    this.settings = settings;
    if (this._comm && this._state.connection === 'ready') {
      this._comm.send(settingsMessage(settings));
    }
  }

  dispose(): void {
    this._disposed = true;
    this._closeComm();
    this._listeners.clear();
  }

  /** One message from the kernel. Malformed ones become a visible error, never an exception. */
  handle(data: unknown): void {
    let message;
    try {
      message = parseKernelMessage(data);
    } catch (error) {
      if (error instanceof ProtocolError) {
        this.dispatch({ type: 'error', requestId: null, message: error.message, fix: error.fix, where: 'protocol' });
        return;
      }
      throw error;
    }
    switch (message.type) {
      case 'ready':
        this.dispatch({
          type: 'ready',
          model: message.model,
          approval: message.approval,
          tools: message.tools,
          history: message.history
        });
        if (message.records) {
          this._fileKernelRecords(message.records);
        }
        this._restoreCards();
        break;
      case 'event':
        if (message.request_id !== null) {
          this.dispatch({ type: 'event', requestId: message.request_id, event: message.event });
        } else if (message.event.kind === 'error') {
          // A kernel-level problem (settings, tools): shown on its own, not under a request.
          const { message: text, fix, where } = message.event;
          this.dispatch({ type: 'error', requestId: null, message: text, fix, where });
        }
        break;
      case 'run_cell':
        // Cells run one after another, in the order the agent asked for them.
        this._cellQueue = this._cellQueue.then(() => this._runCell(message as IRunCellMessage));
        break;
      case 'asked':
        this.dispatch({ type: 'asked', history: message.history });
        if (message.record) {
          // Kept with the sidebar's own records, so a reload shows this turn where it was asked (r12: it vanished).
          const id = `asked-${String(message.record['started'] ?? Date.now())}`;
          this.driver.setKenkyuMetadata(
            withRecord(this.driver.getKenkyuMetadata(), { ...message.record, sidebar: keptNote(id, 'cell') })
          );
        }
        break;
      case 'record':
        this._storeRecord(message.request_id, message.record);
        break;
    }
  }

  /** Resolves when every run_cell received so far has been answered (tests wait on it). */
  idle(): Promise<void> {
    return this._cellQueue;
  }

  dispatch(action: Action): void {
    this._state = reduce(this._state, action);
    for (const listener of this._listeners) {
      listener(this._state);
    }
  }

  private async _runCell(message: IRunCellMessage): Promise<void> {
    const pending = { cancelled: false };
    this._pendingRuns.add(pending);
    const comm = this._comm;
    const answer = (run: ICellRun) => {
      // The answer goes to the comm that asked; after a restart that kernel is gone anyway.
      if (comm && comm === this._comm && !pending.cancelled) {
        comm.send(
          cellResultMessage(
            message.request_id,
            message.cell_request_id,
            run.status,
            run.outputs,
            run.executionCount,
            run.reason
          )
        );
      }
    };
    try {
      const request = this._state.requests[message.request_id];
      if (!request || request.undone || pending.cancelled) {
        const reason = !request
          ? 'this page does not know the request (it was reloaded)'
          : request.undone
            ? "the user undid the request's cells"
            : 'the kernel restarted';
        answer({ status: 'cancelled', outputs: [], executionCount: null, reason });
        return;
      }
      const metadata = agentCellMetadata(message.metadata, message.request_id);
      const cellId = this.driver.insertCell(message.cell_type, message.source, metadata, this._placeFor(message.request_id));
      this.dispatch({ type: 'cell-inserted', requestId: message.request_id, cellId });
      if (message.cell_type === 'markdown') {
        answer({ status: 'ok', outputs: [], executionCount: null });
        return;
      }
      this._running = { requestId: message.request_id, cellId };
      const kenkyu = (metadata['kenkyu'] ?? {}) as Json;
      const started = this._state.items.find(
        i =>
          i.kind === 'tool' &&
          i.requestId === message.request_id &&
          i.callId === kenkyu['call_id'] &&
          (i.status === 'checking' || i.status === 'approved')
      );
      if (started) {
        // Its cell runs now: the card says so, and counts the time (a simulation's cell can run for
        // minutes; "approved" or "checking" until the end read as if nothing had started).
        this.dispatch({
          type: 'tool-update',
          requestId: message.request_id,
          callId: kenkyu['call_id'] as string,
          change: { status: 'running', startedAt: Date.now() }
        });
      }
      const run = await this.driver.runCell(cellId);
      this._running = null;
      if (run.status === 'error' && typeof kenkyu['call_id'] === 'string' && wasInterrupted(run.outputs)) {
        // Seen here first: the kernel's tool_result (status interrupted, resume) follows.
        this.dispatch({
          type: 'tool-update',
          requestId: message.request_id,
          callId: kenkyu['call_id'] as string,
          change: { status: 'interrupted' }
        });
      }
      if (run.status === 'error') {
        this.driver.condenseErrors(cellId); // after the outputs were copied for the kernel's record
      }
      answer(run);
    } catch (error) {
      this.dispatch({
        type: 'error',
        requestId: message.request_id,
        message: `could not run the agent's cell: ${(error as Error).message}`,
        fix: 'check that the notebook is open and its kernel is running',
        where: 'notebook'
      });
      answer({ status: 'cancelled', outputs: [], executionCount: null, reason: (error as Error).message });
    } finally {
      this._running = null;
      this._pendingRuns.delete(pending);
    }
  }

  /**
   * Where a request's next cell goes: below the cell it inserted last; for its first cell, below
   * the cell the user chose when they asked, else below everything in the notebook (so requests
   * read top to bottom in the order they were asked).
   */
  private _placeFor(requestId: string): string | null {
    const request = this._state.requests[requestId];
    const present = new Set(this.driver.notebookCells().map(c => c.id));
    const last = request?.cells.filter(id => present.has(id)).pop();
    if (last) {
      return last;
    }
    const anchor = this._anchor.get(requestId);
    return anchor && present.has(anchor) ? anchor : null;
  }

  /** Rebuild the cards of a reloaded notebook from its records (only into an empty chat). */
  private _restoreCards(): void {
    const records = recordsOf(this.driver.getKenkyuMetadata());
    if (!records.length) {
      return;
    }
    const restored = restoreFromRecords(records, this.driver.notebookCells());
    records.forEach((_, index) => this._recordIndex.set(restored.requests[index].id, index));
    this.dispatch({ type: 'restore', items: restored.items, requests: restored.requests });
  }

  /**
   * File the kernel's records the notebook lacks (%%ask cells asked before the chat opened) in their place, so the
   * notebook holds the whole conversation: a reload shows those turns, and the kernel keeps them on reconnecting.
   */
  private _fileKernelRecords(kernelRecords: Json[]): void {
    const metadata = this.driver.getKenkyuMetadata();
    const next = withKernelRecords(metadata, kernelRecords);
    if (recordsOf(next).length !== recordsOf(metadata).length) {
      this.driver.setKenkyuMetadata(next);
    }
  }

  /** Keep the record's note of the cards current (a resume after the record was filed). */
  private _noteCards(requestId: string): void {
    const index = this._recordIndex.get(requestId);
    const metadata = this.driver.getKenkyuMetadata();
    const records = recordsOf(metadata);
    if (index === undefined || index >= records.length) {
      return;
    }
    const next = records.slice();
    next[index] = { ...records[index], sidebar: sidebarNote(this._state, requestId) };
    this.driver.setKenkyuMetadata({ ...(metadata as Json), records: next });
  }

  /**
   * Saves one after another: a save started while the previous one is still being written finds the file
   * changed on disk under it, and JupyterLab asks "File Changed: overwrite or revert?" (seen when Undo came
   * right after the save that filed the request's record).
   */
  private _save(): Promise<void> {
    this._saving = this._saving.then(() => this._saveNow());
    return this._saving;
  }

  private async _saveNow(): Promise<void> {
    try {
      await this.driver.save();
    } catch (error) {
      this.dispatch({
        type: 'error',
        requestId: null,
        message: `the notebook could not be saved: ${(error as Error).message}`,
        fix: 'save it yourself (File → Save Notebook) so the agent\'s cells and outputs are kept',
        where: 'notebook'
      });
    }
  }

  /**
   * File the request's record in the notebook with the sidebar's note of its cards (what a reload
   * restores), then save the notebook once its cells have all run: outputs, execution counts and
   * the record reach the disk, and a reload finds nothing unsaved.
   */
  private _storeRecord(requestId: string, record: Json): void {
    const removed = this._removedBeforeRecord.get(requestId);
    const marked = removed ? markRemoved(record, removed) : record;
    const stored = { ...marked, sidebar: sidebarNote(this._state, requestId) };
    this._removedBeforeRecord.delete(requestId);
    const metadata = withRecord(this.driver.getKenkyuMetadata(), stored);
    this._recordIndex.set(requestId, recordsOf(metadata).length - 1);
    this.driver.setKenkyuMetadata(metadata);
    this._cellQueue = this._cellQueue.then(() => this._save());
  }

  private _send(data: Json): void {
    if (this._comm) {
      this._comm.send(data);
    }
  }

  private _closeComm(): void {
    const comm = this._comm;
    this._comm = null;
    if (comm) {
      try {
        comm.close();
      } catch {
        // closing a comm of a dead kernel fails; there is nothing left to close
      }
    }
  }

  private _state: IChatState = INITIAL_STATE;
  private _listeners = new Set<(state: IChatState) => void>();
  private _comm: IComm | null = null;
  private _attempt = 0;
  private _restarting = false;
  private _disposed = false;
  private _cellQueue: Promise<void> = Promise.resolve();
  private _saving: Promise<void> = Promise.resolve();
  private _pendingRuns = new Set<{ cancelled: boolean }>();
  private _recordIndex = new Map<string, number>();
  private _removedBeforeRecord = new Map<string, string[]>();
  /** The cell each request's first cell goes below (the user's choice when they asked), or null. */
  private _anchor = new Map<string, string | null>();
  /** The agent cell running now, so Stop knows to interrupt the kernel. */
  private _running: { requestId: string; cellId: string } | null = null;
  /** The resume cell running now (outside any request), so its card's Stop can interrupt it. */
  private _resuming: string | null = null;
}
