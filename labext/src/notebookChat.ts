/**
 * Binds one notebook panel to its ChatSession: connects when its kernel is ready, reconnects after
 * every restart or kernel change, keeps the agent cells' badge up to date, and goes away with the
 * notebook. One per open notebook, so each keeps its own kernel and conversation.
 */

import type { NotebookPanel } from '@jupyterlab/notebook';
import type { ISessionContext } from '@jupyterlab/apputils';
import type { Kernel } from '@jupyterlab/services';

import { ChatSession } from './chatSession';
import { KernelLink, LabNotebookDriver, markAgentCells } from './labAdapters';
import type { ISettings } from './protocol';

const RESTARTING: ReadonlyArray<string> = ['restarting', 'autorestarting', 'dead'];

export class NotebookChat {
  readonly session: ChatSession;
  /** What the user has typed and not sent yet (kept while the sidebar shows another notebook). */
  draft = '';

  constructor(
    readonly panel: NotebookPanel,
    settings: ISettings
  ) {
    this.session = new ChatSession(new LabNotebookDriver(panel), settings);
    panel.sessionContext.statusChanged.connect(this._onStatus, this);
    panel.sessionContext.kernelChanged.connect(this._onKernelChanged, this);
    panel.disposed.connect(() => this.dispose());
    void panel.context.ready.then(() => {
      panel.content.model?.cells.changed.connect(this._onCellsChanged, this);
      this._onCellsChanged();
    });
  }

  get path(): string {
    return this.panel.context.path;
  }

  /** Connect once the notebook's kernel is up (called when the sidebar first shows this notebook). */
  async start(): Promise<void> {
    if (this._started) {
      return;
    }
    this._started = true;
    // The records are read from the notebook's metadata, so the file must be loaded first.
    await Promise.all([this.panel.context.ready, this.panel.sessionContext.ready]);
    // From here on, kernel changes and restarts reconnect; before, this first connect covers them.
    this._live = true;
    await this._connect();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this.panel.sessionContext.statusChanged.disconnect(this._onStatus, this);
    this.panel.sessionContext.kernelChanged.disconnect(this._onKernelChanged, this);
    this.session.dispose();
  }

  private async _connect(): Promise<void> {
    if (this._disposed) {
      return;
    }
    const kernel = this.panel.sessionContext.session?.kernel;
    if (!kernel) {
      this.session.dispatch({
        type: 'closed',
        message: 'this notebook has no kernel',
        fix: 'choose a kernel (Kernel → Change Kernel…) to chat with the assistant'
      });
      return;
    }
    await this.session.connect(new KernelLink(kernel));
  }

  private _onStatus(_: ISessionContext, status: Kernel.Status): void {
    if (!this._live) {
      return;
    }
    if (RESTARTING.includes(status)) {
      if (!this._waitingForRestart) {
        this._waitingForRestart = true;
        this.session.kernelRestarting();
      }
    } else if (status === 'idle' && this._waitingForRestart) {
      this._waitingForRestart = false;
      void this._connect();
    }
  }

  private _onKernelChanged(
    _: ISessionContext,
    change: { newValue: Kernel.IKernelConnection | null }
  ): void {
    if (!this._live) {
      return;
    }
    this.session.kernelRestarting();
    const kernel = change.newValue;
    if (kernel) {
      // kernel.info resolves once the new kernel answers; then its comm target can be registered.
      this._waitingForRestart = false;
      void kernel.info.then(() => this._connect());
    } else {
      this.session.dispatch({
        type: 'closed',
        message: "this notebook's kernel was shut down",
        fix: 'start a kernel (Kernel → Change Kernel…) to chat again'
      });
    }
  }

  private _onCellsChanged(): void {
    // The notebook creates cell widgets in its own handler of the same signal; mark after it.
    setTimeout(() => {
      if (!this._disposed && !this.panel.isDisposed) {
        markAgentCells(this.panel.content);
      }
    }, 0);
  }

  private _started = false;
  private _live = false;
  private _disposed = false;
  private _waitingForRestart = false;
}
