/**
 * The application menu. File items that need the UI's flow (a folder picker, progress, the start
 * screen) are sent to the window as menu commands (src/shared/menu.ts); View, Edit and Window use
 * Electron's built-in roles; About is a native dialog. On macOS the first menu is the app menu
 * (About, Hide, Quit) as the platform expects, and the Edit menu is what makes Cmd+C / Cmd+V work
 * in text fields there. Developer Tools are in the menu only in development.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../../shared/menu';

export interface MenuActions {
  /** Sends a command to the window (no-op while there is none). */
  send(command: MenuCommand): void;
  about(): void;
}

export interface MenuOptions {
  /** Shows View > Toggle Developer Tools: development only (app.ts: an unpackaged app). */
  devTools?: boolean;
}

export function menuTemplate(
  platform: NodeJS.Platform,
  actions: MenuActions,
  appName = 'MIAD Lab',
  options: MenuOptions = {},
): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'Open Workspace…', accelerator: 'CmdOrCtrl+O', click: () => actions.send('open-workspace') },
      { label: 'Create Demo Workspace', click: () => actions.send('create-demo-workspace') },
      { type: 'separator' },
      // The window opens the export dialog only while a workspace is open (it ignores the command otherwise).
      { label: 'Export Curated Dataset…', accelerator: 'CmdOrCtrl+Shift+E', click: () => actions.send('export-dataset') },
      { type: 'separator' },
      { label: 'Close Workspace', click: () => actions.send('close-workspace') },
      ...(mac ? [] : ([{ type: 'separator' }, { role: 'quit' }] as MenuItemConstructorOptions[])),
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      { role: 'reload' },
      { role: 'forceReload' },
      ...(options.devTools === true ? ([{ role: 'toggleDevTools' }] as MenuItemConstructorOptions[]) : []),
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
    submenu: [{ label: `About ${appName}`, click: () => actions.about() }],
  };
  if (!mac) return [file, { role: 'editMenu' }, view, help];
  const appMenu: MenuItemConstructorOptions = {
    label: appName,
    submenu: [
      { label: `About ${appName}`, click: () => actions.about() },
      { type: 'separator' },
      { role: 'services' },
      { type: 'separator' },
      { role: 'hide' },
      { role: 'hideOthers' },
      { role: 'unhide' },
      { type: 'separator' },
      { role: 'quit' },
    ],
  };
  return [appMenu, file, { role: 'editMenu' }, view, { role: 'windowMenu' }, help];
}
