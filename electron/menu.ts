import type { MenuItemConstructorOptions } from 'electron';
import type { DesktopMenuCommand } from './desktop-channels.js';

export interface MenuOptions {
  isMac: boolean;
  appName: string;
  /** Menu items only send commands; the renderer runs the same flow as its buttons. */
  send: (command: DesktopMenuCommand) => void;
  showAbout: () => void;
}

/** The application menu as a pure template (tested without Electron). */
export function buildMenuTemplate(options: MenuOptions): MenuItemConstructorOptions[] {
  const { send } = options;
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'Open Data Folder…', accelerator: 'CmdOrCtrl+O', click: () => send('open-folder') },
      { type: 'separator' },
      { label: 'Import…', accelerator: 'CmdOrCtrl+I', click: () => send('import') },
      {
        label: 'Export',
        submenu: [
          { label: 'Database as JSON…', click: () => send('export-database-json') },
          { label: 'Database as Binary…', accelerator: 'CmdOrCtrl+E', click: () => send('export-database-binary') },
          { label: 'Database as SQLite…', click: () => send('export-database-sqlite') },
          { type: 'separator' },
          { label: 'Selected Snapshot…', accelerator: 'CmdOrCtrl+Shift+E', click: () => send('export-snapshot') },
        ],
      },
      { type: 'separator' },
      { label: 'Create Snapshot…', accelerator: 'CmdOrCtrl+Shift+S', click: () => send('create-snapshot') },
      { type: 'separator' },
      options.isMac ? { role: 'close' } : { role: 'quit', label: 'Quit', accelerator: 'CmdOrCtrl+Q' },
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      { role: 'reload' },
      { role: 'toggleDevTools' },
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  };
  const help: MenuItemConstructorOptions = {
    role: 'help',
    submenu: [{ label: `About ${options.appName}`, click: () => options.showAbout() }],
  };
  const template: MenuItemConstructorOptions[] = [file, { role: 'editMenu' }, view, { role: 'windowMenu' }, help];
  if (options.isMac) template.unshift({ role: 'appMenu' });
  return template;
}
