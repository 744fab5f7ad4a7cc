/**
 * Wires the desktop app together: single-instance lock, the image protocol, the CSP header, the
 * permission policy, the lab host, IPC, menu and window, and the app's lifecycle (quit when the
 * last window closes except on macOS, close the host before quitting). The host factory is a
 * parameter so tests run all of this against a fake `electron` module and a fake host.
 */
import { join } from 'node:path';
import { app, dialog, ipcMain, Menu, net, Notification, powerSaveBlocker, protocol, session, type BrowserWindow } from 'electron';
import type { LabHost } from '../core/host';
import type { MenuCommand, MenuMessage } from '../../shared/menu';
import { LAB_MENU_CHANNEL } from '../../shared/window-lab';
import { appPaths, appUrlMatcher, rendererSource } from './app-url';
import { installCsp } from './csp';
import { trackJobStatus } from './job-status';
import { createFolderPicker, showAbout } from './dialogs';
import { bundledLibraries } from './licences';
import { registerIpc } from './ipc';
import { menuTemplate } from './menu';
import { handleFileProtocol, registerFileScheme } from './protocol';
import { createMainWindow, denyAllPermissions, guardAllWebContents } from './window';

export const APP_NAME = 'MIAD Lab';
/** Windows groups taskbar entries and notifications by this id. */
export const APP_USER_MODEL_ID = 'org.miad-lab.desktop';

/** Exactly the options the core's createLabHost takes from the Electron door. */
export interface DesktopHostOptions {
  door: 'electron';
  configDir: string;
  defaultWorkspacesDir: string;
  pickFolder: (title?: string) => Promise<string | null>;
  /** The app's version (app.getVersion()): the bundle cannot find package.json by itself. */
  version: string;
}

export interface DesktopDeps {
  createHost: (options: DesktopHostOptions) => LabHost | Promise<LabHost>;
  /** Directory of the built main bundle (out/main); the preload and renderer are found from it. */
  mainDir: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  logError?: (message: string, error: unknown) => void;
}

export interface DesktopApp {
  /** False when another instance already runs: this one hands over and quits. */
  primary: boolean;
  /** Settles once the host, IPC, menu and window are up (or startup failed and the app quits). */
  ready: Promise<void>;
}

/**
 * Starts the app. Call it synchronously at the top of the main entry: the scheme must be
 * registered before `ready`, and in an ES-module main process `ready` may fire as soon as the
 * entry's static imports have run.
 */
export function startDesktopApp(deps: DesktopDeps): DesktopApp {
  const platform = deps.platform ?? process.platform;
  const env = deps.env ?? process.env;
  const logError = deps.logError ?? ((message, error) => console.error(message, error));

  if (!app.requestSingleInstanceLock()) {
    // The first instance gets 'second-instance' and focuses its window.
    app.quit();
    return { primary: false, ready: Promise.resolve() };
  }
  registerFileScheme(protocol);
  if (platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID);

  const paths = appPaths(deps.mainDir);
  const source = rendererSource(paths, env['ELECTRON_RENDERER_URL'], app.isPackaged);
  const isAppUrl = appUrlMatcher(source, platform);
  // Development: an unpackaged app (`electron .`, the dev server); a packaged app has no DevTools.
  const development = !app.isPackaged;
  guardAllWebContents(app, isAppUrl);
  // A packaged macOS app takes its dock icon from the bundle; `electron .` would show Electron's.
  if (platform === 'darwin' && development) void app.whenReady().then(() => app.dock?.setIcon(paths.icon));

  let window: BrowserWindow | null = null;
  let host: LabHost | null = null;
  let disposeIpc: (() => void) | null = null;
  let stopJobStatus: (() => void) | null = null;
  let hostClosed = false;
  let closing = false;

  const currentWindow = (): BrowserWindow | null => (window !== null && !window.isDestroyed() ? window : null);

  function openWindow(): BrowserWindow {
    const created = createMainWindow({
      paths,
      source,
      onLoadError: (error) => logError('[window] cannot load the UI', error),
    });
    created.on('closed', () => {
      if (window === created) window = null;
    });
    window = created;
    return created;
  }

  function sendMenu(command: MenuCommand): void {
    const target = currentWindow();
    if (target === null) return;
    const message: MenuMessage = { command };
    target.webContents.send(LAB_MENU_CHANNEL, message);
  }

  function workspacesDir(): string {
    try {
      return join(app.getPath('documents'), APP_NAME);
    } catch {
      // Some Linux desktops define no documents folder.
      return join(app.getPath('home'), APP_NAME);
    }
  }

  app.on('second-instance', () => {
    const target = currentWindow();
    if (target === null) {
      if (host !== null) openWindow();
      return;
    }
    if (target.isMinimized()) target.restore();
    target.show();
    target.focus();
  });

  app.on('window-all-closed', () => {
    if (platform !== 'darwin') app.quit();
  });

  app.on('activate', () => {
    // macOS: clicking the dock icon with no window open reopens one.
    if (host !== null && currentWindow() === null) openWindow();
  });

  app.on('will-quit', (event) => {
    if (host === null || hostClosed) return;
    // Hold the quit until the workspace database is closed, then quit for real.
    event.preventDefault();
    if (closing) return;
    closing = true;
    disposeIpc?.();
    disposeIpc = null;
    stopJobStatus?.();
    stopJobStatus = null;
    host
      .close()
      .catch((error: unknown) => logError('[app] closing the lab failed', error))
      .finally(() => {
        hostClosed = true;
        app.quit();
      });
  });

  const ready = app
    .whenReady()
    .then(async () => {
      installCsp(session.defaultSession);
      denyAllPermissions(session.defaultSession);
      const created = await deps.createHost({
        door: 'electron',
        configDir: app.getPath('userData'),
        defaultWorkspacesDir: workspacesDir(),
        pickFolder: createFolderPicker(currentWindow),
        version: app.getVersion(),
      });
      host = created;
      handleFileProtocol(protocol, { host: created, fetchFile: (url) => net.fetch(url), logError });
      disposeIpc = registerIpc({
        ipcMain,
        host: created,
        trusted: () => currentWindow()?.webContents ?? null,
        isAppUrl,
        logError,
      });
      stopJobStatus = trackJobStatus({
        host: created,
        window: currentWindow,
        powerSaveBlocker,
        notifier: {
          isSupported: () => Notification.isSupported(),
          show: (options) => new Notification(options).show(),
        },
        logError,
      });
      Menu.setApplicationMenu(
        Menu.buildFromTemplate(
          menuTemplate(
            platform,
            {
              send: sendMenu,
              about: () => {
                const libraries = bundledLibraries(paths.appRoot, process.versions.electron);
                showAbout(currentWindow, { name: APP_NAME, version: app.getVersion(), versions: process.versions, libraries }).catch(
                  (error: unknown) => logError('[app] about box failed', error),
                );
              },
            },
            APP_NAME,
            { devTools: development },
          ),
        ),
      );
      openWindow();
    })
    .catch((error: unknown) => {
      logError('[app] startup failed', error);
      const message = error instanceof Error ? error.message : String(error);
      dialog.showErrorBox(`${APP_NAME} could not start`, message);
      app.quit();
    });

  return { primary: true, ready };
}
