/**
 * The JupyterLab side of ChatSession's two interfaces: the kernel (a comm through
 * @jupyterlab/services) and the notebook (cells inserted in the model and executed through
 * CodeCell.execute, the same call NotebookActions.run makes).
 */

import { CodeCell, MarkdownCell } from '@jupyterlab/cells';
import type { NotebookPanel, Notebook } from '@jupyterlab/notebook';
import type { Kernel } from '@jupyterlab/services';

import type { IComm, ICellRun, IKernelLink, INotebookDriver } from './chatSession';
import type { IContextCell } from './protocol';
import { REGISTER_CODE } from './protocol';
import { chosenPlace, errorLine, insertionIndex, isAgentCell } from './records';

type Json = Record<string, unknown>;

/** The CSS class of the agent's cells (a left rule and a "kenkyu agent" badge). */
export const AGENT_CELL_CLASS = 'kenkyu-agentCell';

export class KernelLink implements IKernelLink {
  constructor(private readonly kernel: Kernel.IKernelConnection) {}

  async register(): Promise<void> {
    const future = this.kernel.requestExecute({
      code: REGISTER_CODE,
      silent: true,
      store_history: false
    });
    const reply = await future.done;
    const content = reply.content as unknown as Json;
    if (content['status'] !== 'ok') {
      throw new Error(`${content['ename'] ?? 'error'}: ${content['evalue'] ?? content['status']}`);
    }
  }

  openComm(target: string, data: Json, onMessage: (data: unknown) => void, onClose: () => void): IComm {
    const comm = this.kernel.createComm(target);
    comm.onMsg = msg => onMessage(msg.content.data);
    comm.onClose = () => onClose();
    comm.open(data as any);
    return {
      send: (payload: Json) => {
        if (!comm.isDisposed) {
          comm.send(payload as any);
        }
      },
      close: () => {
        if (!comm.isDisposed) {
          comm.close();
        }
      }
    };
  }
}

/** Context for the agent: the last cells of the notebook, long sources cut. */
const CONTEXT_CELLS = 40;
const CONTEXT_CHARS = 4000;

export class LabNotebookDriver implements INotebookDriver {
  constructor(private readonly panel: NotebookPanel) {
    // The cell the user moves to (a click, the arrow keys, a cell they add) is a candidate for where the next
    // answer goes (chosenPlace decides); the notebook's own moves while the agent inserts or removes cells are not.
    panel.content.activeCellChanged.connect((_, cell) => {
      if (!this._editing && cell && this._sawUser) {
        this._activated = cell.model.id;
      }
    });
    // The active cell a page opens with (the first cell) is no choice: only moves after a user's click or key
    // press in the notebook panel (its toolbar's + included) count.
    const user = () => (this._sawUser = true);
    panel.node.addEventListener('mousedown', user, true);
    panel.node.addEventListener('keydown', user, true);
  }

  takeChosenCell(): string | null {
    const activated = this._activated;
    this._activated = null;
    const active = this.notebook.activeCell;
    const cell = active && !active.isDisposed ? active.model : null;
    return chosenPlace(
      activated,
      cell ? { id: cell.id, source: cell.sharedModel.getSource(), kenkyu: cell.getMetadata('kenkyu') } : null
    );
  }

  async interrupt(): Promise<void> {
    const kernel = this.panel.sessionContext.session?.kernel;
    if (!kernel) {
      throw new Error('the notebook has no running kernel');
    }
    await kernel.interrupt();
  }

  condenseErrors(cellId: string): void {
    const index = this.cellIds().indexOf(cellId);
    const widget = index >= 0 ? this.notebook.widgets[index] : undefined;
    if (!widget || widget.model.type !== 'code') {
      return;
    }
    const outputs = (widget as CodeCell).model.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const output = outputs.get(i).toJSON() as Json;
      if (output['output_type'] === 'error') {
        outputs.set(i, { ...output, traceback: [errorLine(output)] } as any);
      }
    }
  }

  async save(): Promise<void> {
    // The document context's save: what File → Save (docmanager:save) does, checkpoint included.
    if (!this.panel.isDisposed && this.panel.context.isReady) {
      await this.panel.context.save();
    }
  }

  notebookCells(): { id: string; kenkyu: Json }[] {
    const model = this.notebook.model;
    if (!model) {
      return [];
    }
    const cells: { id: string; kenkyu: Json }[] = [];
    for (let i = 0; i < model.cells.length; i++) {
      const cell = model.cells.get(i);
      const kenkyu = cell.getMetadata('kenkyu');
      cells.push({ id: cell.id, kenkyu: typeof kenkyu === 'object' && kenkyu !== null ? (kenkyu as Json) : {} });
    }
    return cells;
  }

  private _activated: string | null = null;
  private _sawUser = false;
  private _editing = false;

  private get notebook(): Notebook {
    return this.panel.content;
  }

  private cellIds(): string[] {
    const model = this.notebook.model;
    if (!model) {
      return [];
    }
    const ids: string[] = [];
    for (let i = 0; i < model.cells.length; i++) {
      ids.push(model.cells.get(i).id);
    }
    return ids;
  }

  insertCell(cellType: 'code' | 'markdown', source: string, metadata: Json, afterCellId: string | null): string {
    const model = this.notebook.model;
    if (!model) {
      throw new Error('the notebook is not loaded');
    }
    const index = insertionIndex(this.cellIds(), afterCellId);
    this._editing = true;
    try {
      model.sharedModel.insertCell(index, {
        cell_type: cellType,
        source,
        metadata: metadata as any
      });
    } finally {
      this._editing = false;
    }
    const widget = this.notebook.widgets[index];
    widget.addClass(AGENT_CELL_CLASS);
    if (cellType === 'markdown') {
      (widget as MarkdownCell).rendered = true;
    }
    void this.notebook.scrollToItem(index, 'smart').catch(() => undefined);
    return model.cells.get(index).id;
  }

  async runCell(cellId: string): Promise<ICellRun> {
    const index = this.cellIds().indexOf(cellId);
    const widget = index >= 0 ? this.notebook.widgets[index] : undefined;
    if (!widget || widget.model.type !== 'code') {
      return { status: 'cancelled', outputs: [], executionCount: null, reason: 'the cell was deleted before it ran' };
    }
    const cell = widget as CodeCell;
    const reply = await CodeCell.execute(cell, this.panel.sessionContext, {
      deletedCells: this.notebook.model?.deletedCells ?? [],
      recordTiming: this.notebook.notebookConfig.recordTiming
    });
    if (!reply || cell.isDisposed) {
      const reason = cell.isDisposed ? 'the cell was deleted while it ran' : 'the notebook has no running kernel';
      return { status: 'cancelled', outputs: [], executionCount: null, reason };
    }
    const status = reply.content.status;
    return {
      status: status === 'ok' ? 'ok' : status === 'error' ? 'error' : 'cancelled',
      outputs: cell.model.outputs.toJSON() as unknown[],
      executionCount: cell.model.executionCount
    };
  }

  removeCells(cellIds: string[]): string[] {
    const model = this.notebook.model;
    if (!model) {
      return [];
    }
    const ids = this.cellIds();
    const indices = cellIds.map(id => ids.indexOf(id)).filter(i => i >= 0);
    const sources = indices.map(i => model.cells.get(i).sharedModel.getSource());
    // From the bottom up so earlier indices stay valid; one transaction, one undo step.
    this._editing = true;
    try {
      model.sharedModel.transact(() => {
        for (const i of [...indices].sort((a, b) => b - a)) {
          model.sharedModel.deleteCell(i);
        }
      });
    } finally {
      this._editing = false;
    }
    return sources;
  }

  getKenkyuMetadata(): unknown {
    return this.notebook.model?.getMetadata('kenkyu');
  }

  setKenkyuMetadata(value: Json): void {
    this.notebook.model?.setMetadata('kenkyu', value);
  }

  contextCells(): IContextCell[] {
    const model = this.notebook.model;
    if (!model) {
      return [];
    }
    const cells: IContextCell[] = [];
    const first = Math.max(0, model.cells.length - CONTEXT_CELLS);
    for (let i = first; i < model.cells.length; i++) {
      const cell = model.cells.get(i);
      cells.push({ cell_type: cell.type, source: cell.sharedModel.getSource().slice(0, CONTEXT_CHARS) });
    }
    return cells;
  }
}

/** Give every agent cell of a notebook its class (cells loaded from the file included). */
export function markAgentCells(notebook: Notebook): void {
  for (const widget of notebook.widgets) {
    widget.toggleClass(AGENT_CELL_CLASS, isAgentCell({ kenkyu: widget.model.getMetadata('kenkyu') }));
  }
}
