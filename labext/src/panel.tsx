/**
 * The sidebar: model indicator, the chat of the current notebook (streamed markdown replies, tool
 * cards with Approve/Deny, errors with their fix), Stop and Undo, and the prompt box.
 *
 * It follows the current notebook: each notebook keeps its own NotebookChat; this widget only
 * shows the one in front.
 */

import * as React from 'react';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import type { IRenderMimeRegistry, IRenderMime } from '@jupyterlab/rendermime';

import {
  ChatItem,
  IChatState,
  IRequestState,
  IToolItem,
  activity,
  canUndo,
  describeEnd,
  formatDuration,
  resumingTool
} from './chatState';
import type { NotebookChat } from './notebookChat';
import {
  interruptedNote,
  interruptedStatus,
  overwriteConfirmation,
  rerunCode,
  resumeActions,
  resumingStatus,
  resumingPlaceholder,
  sidebarFix,
  sidebarReply,
  sidebarSummary,
  sidebarWarning
} from './fixes';
import { estimateHeadline, summaryParts } from './summary';
import { shortenedResults } from './replies';

/** What the panel may ask of JupyterLab beyond the chat (the settings editor). */
export interface IPanelActions {
  openSettings(): void;
}

const TOOL_STATUS_TEXT: { [status: string]: string } = {
  checking: 'checking its cost and files…',
  running: 'running',
  'awaiting-approval': 'waiting for your approval',
  approved: 'approved',
  denied: 'denied',
  ok: 'done',
  failed: 'failed',
  interrupted: 'interrupted — resumable',
  resuming: 'resuming'
};

/** Seconds since `startedAt`, counted once a second while `live` (a running card, a working request). */
function useElapsed(startedAt: number | undefined, live: boolean): number | null {
  const [now, setNow] = React.useState(Date.now());
  React.useEffect(() => {
    if (!live || startedAt === undefined) {
      return;
    }
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [live, startedAt]);
  return live && startedAt !== undefined ? Math.max(0, (now - startedAt) / 1000) : null;
}

/** Renders markdown with JupyterLab's renderer (untrusted: replies are data, never HTML to trust). */
function Markdown(props: { text: string; rendermime: IRenderMimeRegistry }): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const renderer = React.useRef<IRenderMime.IRenderer | null>(null);
  // Renders are async; while one runs only the newest text is kept, so a slow render of an older
  // prefix can never overwrite a newer one.
  const pending = React.useRef<string | null>(null);
  const busy = React.useRef(false);

  const pump = React.useCallback(async () => {
    if (busy.current || !renderer.current) {
      return;
    }
    busy.current = true;
    try {
      while (pending.current !== null && renderer.current) {
        const text = pending.current;
        pending.current = null;
        const model = props.rendermime.createModel({ data: { 'text/markdown': text }, trusted: false });
        await renderer.current.renderModel(model);
      }
    } finally {
      busy.current = false;
    }
  }, [props.rendermime]);

  React.useEffect(() => {
    if (!renderer.current && host.current) {
      renderer.current = props.rendermime.createRenderer('text/markdown');
      host.current.appendChild(renderer.current.node);
    }
    pending.current = props.text;
    void pump();
  }, [props.text]);

  React.useEffect(
    () => () => {
      renderer.current?.dispose();
      renderer.current = null;
    },
    []
  );
  return <div className="kenkyu-markdown" ref={host} />;
}

/** Run a card's button, after asking first when it deletes computed work (Overwrite and rerun). */
async function confirmThenRun(label: string, summary: string, run: () => unknown): Promise<void> {
  const text = overwriteConfirmation(label, summary);
  if (text) {
    const answer = await showDialog({
      title: 'Delete the existing run?',
      body: text,
      buttons: [Dialog.cancelButton({ label: 'Keep it' }), Dialog.warnButton({ label: 'Delete and rerun' })]
    });
    if (!answer.button.accept) {
      return;
    }
  }
  await run();
}

/** A tool's summary: the first lines shown, the rest behind "more", its caveats always in view. */
function Summary(props: { text: string }): JSX.Element {
  const { head, rest, caveats } = summaryParts(props.text);
  return (
    <>
      {rest.length === 0 ? (
        <div className="kenkyu-tool-summary">{head.join('\n')}</div>
      ) : (
        <details className="kenkyu-tool-summary">
          <summary>{head.join('\n')}</summary>
          {rest.join('\n')}
        </details>
      )}
      {caveats.length > 0 && (
        <ul className="kenkyu-tool-caveats">
          {caveats.map((caveat, i) => (
            <li key={i}>Caveat: {caveat}</li>
          ))}
        </ul>
      )}
    </>
  );
}

/** What approving starts: the measured estimate, every step with its length, and the warnings. */
function ApprovalDetails(props: { item: IToolItem }): JSX.Element | null {
  const { item } = props;
  if (!item.estimate && !item.steps.length && !item.warnings.length) {
    return null;
  }
  return (
    <div className="kenkyu-tool-plan">
      {item.warnings.length > 0 && (
        <ul className="kenkyu-tool-warnings" role="alert">
          {item.warnings.map((warning, i) => (
            <li key={i}>⚠ {sidebarWarning(warning)}</li>
          ))}
        </ul>
      )}
      {item.estimate && (
        <div className="kenkyu-tool-estimate">
          <span className="kenkyu-tool-arg-name">estimate</span> {item.estimate}
        </div>
      )}
      {item.steps.length > 0 && (
        <ol className="kenkyu-tool-steps">
          {item.steps.map((step, i) => (
            <li key={i}>{step}</li>
          ))}
        </ol>
      )}
    </div>
  );
}

function ToolCard(props: { item: IToolItem; chat: NotebookChat; busy: boolean }): JSX.Element {
  const { item, chat } = props;
  const args = Object.entries(item.arguments);
  const rerun = rerunCode(item);
  const actions =
    item.status === 'interrupted' || item.status === 'failed' ? resumeActions(rerun, item.status, item.summary) : [];
  const live = item.status === 'running' || item.status === 'resuming';
  const elapsed = useElapsed(item.startedAt, live);
  return (
    <div className={`kenkyu-tool kenkyu-tool-${item.status}`} data-status={item.status} data-tool={item.name}>
      <div className="kenkyu-tool-head">
        <span className="kenkyu-tool-name">{item.name}</span>
        <span className="kenkyu-tool-status">
          {item.status === 'interrupted'
            ? interruptedStatus(item.summary)
            : item.status === 'resuming'
              ? resumingStatus(item.summary)
              : TOOL_STATUS_TEXT[item.status]}
        </span>
        {live && elapsed !== null ? (
          <span className="kenkyu-tool-elapsed" title="Time since its cell started">
            {formatDuration(Math.floor(elapsed))}
          </span>
        ) : (
          item.durationS !== null && <span className="kenkyu-tool-duration">{formatDuration(item.durationS)}</span>
        )}
      </div>
      {args.length > 0 && (
        <div className="kenkyu-tool-args">
          {args.map(([key, value]) => (
            <div key={key} className="kenkyu-tool-arg">
              <span className="kenkyu-tool-arg-name">{key}</span>{' '}
              <span className="kenkyu-tool-arg-value">{typeof value === 'string' ? value : JSON.stringify(value)}</span>
            </div>
          ))}
        </div>
      )}
      {item.status === 'awaiting-approval' && <ApprovalDetails item={item} />}
      {live && item.estimate && (
        <div className="kenkyu-tool-expected">
          <span className="kenkyu-tool-arg-name">expected</span> {estimateHeadline(item.estimate)}
        </div>
      )}
      {item.writesFiles && item.status === 'awaiting-approval' && (
        <div className="kenkyu-tool-note">This tool runs a computation or writes files.</div>
      )}
      {/* While its resume cell runs, the last stop's summary is out of date: the head says what happens now. */}
      {item.summary && item.status !== 'resuming' && (
        <Summary text={sidebarSummary(item.summary, item.status, item.resume)} />
      )}
      {item.status === 'interrupted' && (
        <div className="kenkyu-tool-note">{interruptedNote(item.summary, rerun)}</div>
      )}
      {actions.length > 0 && (
        <div className="kenkyu-tool-actions">
          {actions.map(action => (
            <button
              key={action.label}
              className="jp-Button jp-mod-styled jp-mod-accept kenkyu-resume"
              disabled={props.busy}
              title={action.code}
              onClick={() =>
                void confirmThenRun(action.label, item.summary, () =>
                  chat.session.resume(item.requestId, item.callId, action.code)
                )
              }
            >
              {action.label}
            </button>
          ))}
        </div>
      )}
      {item.status === 'resuming' && (
        <div className="kenkyu-tool-actions">
          <span className="kenkyu-tool-note">Its cell runs in the notebook; the chat waits for it.</span>
          <button
            className="jp-Button jp-mod-styled jp-mod-warn kenkyu-stop-resume"
            title="Interrupt the kernel, as the notebook's stop button does; the run stays resumable"
            onClick={() => chat.session.stopResume()}
          >
            Stop
          </button>
        </div>
      )}
      {item.status === 'awaiting-approval' && (
        <div className="kenkyu-tool-actions">
          <button
            className="jp-Button jp-mod-styled jp-mod-accept kenkyu-approve"
            onClick={() => chat.session.approve(item.requestId, item.callId, true)}
          >
            Approve
          </button>
          <button
            className="jp-Button jp-mod-styled jp-mod-reject kenkyu-deny"
            onClick={() => chat.session.approve(item.requestId, item.callId, false)}
          >
            Deny
          </button>
        </div>
      )}
    </div>
  );
}

function ErrorItem(props: { message: string; fix: string; where: string; actions: IPanelActions }): JSX.Element {
  const fix = props.fix || props.where === 'provider' ? sidebarFix(props.fix, props.where) : null;
  return (
    <div className="kenkyu-error" role="alert">
      <div className="kenkyu-error-message">{props.message}</div>
      {fix && <div className="kenkyu-error-fix">Fix: {fix.text}</div>}
      {fix?.settings && (
        <button className="jp-Button jp-mod-styled kenkyu-open-settings" onClick={() => props.actions.openSettings()}>
          Open settings
        </button>
      )}
    </div>
  );
}

function Item(props: {
  item: ChatItem;
  items: ChatItem[];
  chat: NotebookChat;
  rendermime: IRenderMimeRegistry;
  actions: IPanelActions;
  busy: boolean;
}): JSX.Element {
  const { item } = props;
  switch (item.kind) {
    case 'user':
      return item.request === 'research' ? (
        <div className="kenkyu-msg kenkyu-user kenkyu-user-research">
          <span className="kenkyu-badge" title="The research loop: Plan, Do, Check, Act (as %%research)">
            research
          </span>{' '}
          {item.text}
        </div>
      ) : (
        <div className="kenkyu-msg kenkyu-user">{item.text}</div>
      );
    case 'assistant': {
      // A finished reply that only repeats its request's cards is shortened to a pointer and its caveats.
      const cards = props.items.filter(i => i.kind === 'tool' && i.requestId === item.requestId) as IToolItem[];
      const shortened = item.streaming || !item.requestId ? null : shortenedResults(item.text, cards);
      return (
        <div className={`kenkyu-msg kenkyu-assistant${item.streaming ? ' kenkyu-streaming' : ''}`}>
          <Markdown text={shortened ?? sidebarReply(item.text)} rendermime={props.rendermime} />
        </div>
      );
    }
    case 'tool':
      return <ToolCard item={item} chat={props.chat} busy={props.busy} />;
    case 'error':
      return <ErrorItem message={item.message} fix={item.fix} where={item.where} actions={props.actions} />;
  }
}

function RequestFooter(props: { request: IRequestState; state: IChatState; chat: NotebookChat }): JSX.Element | null {
  const { request, chat } = props;
  const resumed = props.state.items.some(
    i => i.kind === 'tool' && i.requestId === request.id && i.status === 'ok' && i.summary.startsWith('resumed and finished')
  );
  const end = request.status === 'done' ? describeEnd(request, resumed) : '';
  const elapsed = useElapsed(request.startedAt, request.status !== 'done');
  return (
    <div className="kenkyu-request-footer">
      {request.status !== 'done' && (
        <>
          <span className="kenkyu-working" role="status">
            {activity(props.state, request.id) || 'Working…'}
            {elapsed !== null && elapsed >= 1 && ` · ${formatDuration(Math.floor(elapsed))}`}
          </span>
          <button
            className="jp-Button jp-mod-styled jp-mod-warn kenkyu-stop"
            disabled={request.status === 'stopping'}
            onClick={() => chat.session.stop(request.id)}
          >
            Stop
          </button>
        </>
      )}
      {end && <span className="kenkyu-ended">{end}</span>}
      {canUndo(request) && (
        <button
          className="jp-Button jp-mod-styled kenkyu-undo"
          title="Remove the cells this request inserted"
          onClick={() => chat.session.undo(request.id)}
        >
          Undo {request.cells.length} cell{request.cells.length === 1 ? '' : 's'}
        </button>
      )}
      {request.undone && <span className="kenkyu-ended">Cells removed.</span>}
    </div>
  );
}

function connectionText(state: IChatState): string {
  switch (state.connection) {
    case 'idle':
      return 'not connected';
    case 'connecting':
      return 'connecting…';
    case 'restarting':
      return 'kernel restarting…';
    case 'closed':
      return 'disconnected';
    case 'ready':
      return state.model?.label || 'ready';
  }
}

function ChatView(props: {
  chat: NotebookChat;
  rendermime: IRenderMimeRegistry;
  settingsError: string;
  actions: IPanelActions;
}): JSX.Element {
  const { chat } = props;
  const [state, setState] = React.useState<IChatState>(chat.session.state);
  // The draft lives on the notebook's chat: switching notebooks (the sidebar follows the current one)
  // must not lose what the user was typing.
  const [prompt, setPromptState] = React.useState(chat.draft);
  const setPrompt = (text: string) => {
    chat.draft = text;
    setPromptState(text);
  };
  const list = React.useRef<HTMLDivElement>(null);
  const input = React.useRef<HTMLTextAreaElement>(null);

  React.useEffect(() => {
    setState(chat.session.state);
    return chat.session.onChange(setState);
  }, [chat]);

  // Follow the newest reply, as a chat does, unless the user scrolled up to read. Markdown renders
  // after React commits, so any change in the list's content (not only new items) scrolls.
  const following = React.useRef(true);
  React.useEffect(() => {
    const node = list.current;
    if (!node) {
      return;
    }
    const follow = () => {
      if (following.current) {
        node.scrollTop = node.scrollHeight;
      }
    };
    const observer = new MutationObserver(follow);
    observer.observe(node, { childList: true, subtree: true, characterData: true });
    follow();
    return () => observer.disconnect();
  }, [chat]);
  // A card that waits for approval blocks the request on the user: bring it into view even when they had
  // scrolled up to read (the chat otherwise stays where they put it), or the request looks stuck.
  const waitingCard = state.items.find(i => i.kind === 'tool' && i.status === 'awaiting-approval')?.id;
  React.useEffect(() => {
    const card = waitingCard ? list.current?.querySelector('.kenkyu-tool[data-status="awaiting-approval"]') : null;
    if (card) {
      card.scrollIntoView({ block: 'nearest' });
    }
  }, [waitingCard]);
  const onScroll = () => {
    const node = list.current;
    if (node) {
      following.current = node.scrollHeight - node.scrollTop - node.clientHeight < 40;
    }
  };

  const send = () => {
    if (chat.session.ask(prompt)) {
      setPrompt('');
      following.current = true;
    }
  };

  // Each request's Stop/Undo row goes right after its last item.
  const lastOfRequest = new Map<string, number>();
  state.items.forEach((item, index) => {
    if (item.requestId) {
      lastOfRequest.set(item.requestId, index);
    }
  });
  const ready = state.connection === 'ready';
  const resuming = resumingTool(state);
  const busy = state.active !== null || resuming !== undefined;

  // When a request ends, the cursor goes back to the input for the follow-up question, unless the user
  // moved on to something else meanwhile (typing in a cell keeps its focus).
  const wasBusy = React.useRef(busy);
  React.useEffect(() => {
    const node = input.current;
    if (wasBusy.current && !busy && ready && node) {
      const active = document.activeElement;
      const root = node.closest('.kenkyu-chat');
      if (!active || active === document.body || (root && root.contains(active))) {
        node.focus();
      }
    }
    wasBusy.current = busy;
  }, [busy, ready]);

  return (
    <div className="kenkyu-chat">
      <div className="kenkyu-header">
        <div className="kenkyu-notebook" title={chat.path}>
          {chat.path.split('/').pop()}
        </div>
        <div className={`kenkyu-model kenkyu-conn-${state.connection}`} title="The model this notebook's assistant uses">
          <span className="kenkyu-dot" />
          <span className="kenkyu-model-label">{connectionText(state)}</span>
          {state.connection === 'ready' && state.approval && (
            <span className="kenkyu-approval" title="ask: tools that compute or write files wait for Approve">
              approval: {state.approval}
            </span>
          )}
        </div>
      </div>
      {props.settingsError && (
        <div className="kenkyu-error" role="alert">
          <div className="kenkyu-error-message">{props.settingsError}</div>
        </div>
      )}
      <div className="kenkyu-messages" ref={list} onScroll={onScroll}>
        {state.items.length === 0 && ready && (
          <div className="kenkyu-empty">
            Ask for a simulation, an analysis or a figure. The assistant writes each step as a cell in this
            notebook and runs it here. Start with /research for the research loop: a plan to approve, then
            the Do, Check and Act sections as cells.
          </div>
        )}
        {state.items.map((item, index) => (
          <React.Fragment key={item.id}>
            <Item
              item={item}
              items={state.items}
              chat={chat}
              rendermime={props.rendermime}
              actions={props.actions}
              busy={busy}
            />
            {item.requestId && lastOfRequest.get(item.requestId) === index && state.requests[item.requestId] && (
              <RequestFooter request={state.requests[item.requestId]} state={state} chat={chat} />
            )}
          </React.Fragment>
        ))}
      </div>
      <div className="kenkyu-input">
        <textarea
          ref={input}
          className="jp-mod-styled kenkyu-prompt"
          placeholder={
            !ready
              ? connectionText(state)
              : resuming
                ? resumingPlaceholder(resuming.name, resuming.summary)
                : 'Ask kenkyu… (Enter sends; /research for the research loop)'
          }
          value={prompt}
          disabled={!ready || busy}
          onChange={event => setPrompt(event.target.value)}
          onKeyDown={event => {
            if (event.key === 'Enter' && !event.shiftKey) {
              event.preventDefault();
              send();
            }
          }}
        />
        <button
          className="jp-Button jp-mod-styled jp-mod-accept kenkyu-send"
          disabled={!ready || busy || !prompt.trim()}
          onClick={send}
        >
          Send
        </button>
      </div>
    </div>
  );
}

/** The sidebar widget. `show(chat)` switches it to another notebook's conversation. */
export class ChatSidebar extends ReactWidget {
  constructor(
    private readonly rendermime: IRenderMimeRegistry,
    private readonly actions: IPanelActions
  ) {
    super();
    this.addClass('kenkyu-sidebar');
  }

  get chat(): NotebookChat | null {
    return this._chat;
  }

  showChat(chat: NotebookChat | null): void {
    this._unfollow?.();
    this._unfollow = null;
    this._chat = chat;
    if (chat) {
      this._unfollow = chat.session.onChange(state => this._markTab(state));
    }
    this._markTab(chat ? chat.session.state : null);
    this.update();
  }

  /**
   * Mark the sidebar's tab while a tool waits for approval: with the sidebar closed (or another panel in
   * front) a request would wait on a card nobody sees, and look like a slow one.
   */
  private _markTab(state: IChatState | null): void {
    const waiting = !!state?.items.some(i => i.kind === 'tool' && i.status === 'awaiting-approval');
    this.title.className = waiting ? 'kenkyu-needs-approval' : '';
    this.title.caption = waiting ? 'kenkyu chat: a tool waits for your approval' : 'kenkyu chat';
  }

  setSettingsError(message: string): void {
    this._settingsError = message;
    this.update();
  }

  focusInput(): void {
    this.node.querySelector<HTMLTextAreaElement>('.kenkyu-prompt')?.focus();
  }

  protected render(): JSX.Element {
    if (!this._chat) {
      return (
        <div className="kenkyu-chat">
          <div className="kenkyu-empty">Open a notebook to chat with kenkyu in its kernel.</div>
        </div>
      );
    }
    return (
      <ChatView
        key={this._chat.path + ':' + this._chat.panel.id}
        chat={this._chat}
        rendermime={this.rendermime}
        settingsError={this._settingsError}
        actions={this.actions}
      />
    );
  }

  private _chat: NotebookChat | null = null;
  private _settingsError = '';
  private _unfollow: (() => void) | null = null;
}
