/**
 * kenkyu's chat sidebar: a right-side panel bound to the current notebook's kernel through the
 * `kenkyu.chat` comm (labext/PROTOCOL.md), a command-palette entry and a keyboard shortcut
 * (Alt+Shift+K, set in schema/plugin.json), and the model settings in the settings registry.
 */

import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';

import { NotebookChat } from './notebookChat';
import { ChatSidebar } from './panel';
import { EMPTY_SETTINGS, ISettings, SettingsError, settingsFromRegistry } from './protocol';
import { STDIN_INPUT_SELECTOR, anyLiveStdin, retireStaleStdin } from './staleStdin';

const PLUGIN_ID = 'kenkyu-sidebar:plugin';
const OPEN_COMMAND = 'kenkyu:open-chat';

const chatIcon = new LabIcon({
  name: 'kenkyu:chat',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 5v2h10V8H7zm0 4v2h7v-2H7z"/>' +
    '</svg>'
});

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: "kenkyu's chat sidebar: the research assistant in the current notebook's kernel.",
  autoStart: true,
  requires: [INotebookTracker, IRenderMimeRegistry, ISettingRegistry],
  optional: [ICommandPalette, ILayoutRestorer, ILabShell],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    rendermime: IRenderMimeRegistry,
    settingRegistry: ISettingRegistry,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    labShell: ILabShell | null
  ) => {
    const sidebar = new ChatSidebar(rendermime, {
      // A fix that is a chat setting opens the settings editor on kenkyu's entry.
      openSettings: () => void app.commands.execute('settingeditor:open', { query: 'kenkyu chat' })
    });
    sidebar.id = 'kenkyu-chat';
    sidebar.title.icon = chatIcon;
    sidebar.title.caption = 'kenkyu chat';
    app.shell.add(sidebar, 'right', { rank: 200 });
    restorer?.add(sidebar, 'kenkyu-chat');

    // One conversation per notebook, made the first time the sidebar shows that notebook.
    const chats = new Map<NotebookPanel, NotebookChat>();
    let settings: ISettings = { ...EMPTY_SETTINGS };
    let settingsLoaded: () => void = () => undefined;
    // hello carries the settings, so no chat connects before the registry has answered.
    const settingsReady = new Promise<void>(resolve => (settingsLoaded = resolve));

    const follow = () => {
      const panel = tracker.currentWidget;
      if (!panel) {
        sidebar.showChat(null);
        return;
      }
      if (!sidebar.isVisible) {
        return; // connect lazily: a notebook nobody chats with never imports kenkyu in its kernel
      }
      let chat = chats.get(panel);
      if (!chat) {
        chat = new NotebookChat(panel, settings);
        chats.set(panel, chat);
        panel.disposed.connect(() => chats.delete(panel));
      }
      sidebar.showChat(chat);
      const starting = chat;
      void settingsReady.then(() => starting.start());
    };

    // A %%ask approval box left under a cell whose execution has ended reads "no longer asked", and JupyterLab's
    // pending-input guard, which would refuse every other cell, is lifted when no box asks any more (staleStdin.ts).
    NotebookActions.executed.connect((_, { notebook, cell }) => {
      const retired = retireStaleStdin(cell.node.querySelectorAll<HTMLInputElement>(STDIN_INPUT_SELECTOR));
      if (retired > 0 && !anyLiveStdin(notebook.node.querySelectorAll<HTMLInputElement>(STDIN_INPUT_SELECTOR))) {
        tracker.find(panel => panel.content === notebook)?.sessionContext.session?.kernel?.removeInputGuard();
      }
    });

    tracker.currentChanged.connect(follow);
    // The sidebar shown (by its tab, the command or a restored layout) picks up the current notebook.
    labShell?.layoutModified.connect(follow);
    app.restored.then(follow);

    void settingRegistry
      .load(PLUGIN_ID)
      .then(loaded => {
        const apply = () => {
          try {
            settings = settingsFromRegistry(loaded.composite as Record<string, unknown>);
            sidebar.setSettingsError('');
          } catch (error) {
            const fix = error instanceof SettingsError ? ` Fix: ${error.fix}.` : '';
            sidebar.setSettingsError(`kenkyu settings: ${(error as Error).message}.${fix}`);
            settings = { ...EMPTY_SETTINGS };
          }
          for (const chat of chats.values()) {
            chat.session.updateSettings(settings);
          }
        };
        apply();
        loaded.changed.connect(apply);
      })
      .catch(error => sidebar.setSettingsError(`kenkyu settings could not be loaded: ${error}`))
      .finally(() => settingsLoaded());

    app.commands.addCommand(OPEN_COMMAND, {
      label: 'Open kenkyu chat',
      caption: "Chat with the research assistant in the current notebook's kernel",
      icon: chatIcon,
      execute: () => {
        app.shell.activateById(sidebar.id);
        follow();
        sidebar.focusInput();
      }
    });
    palette?.addItem({ command: OPEN_COMMAND, category: 'kenkyu' });
  }
};

export default plugin;
