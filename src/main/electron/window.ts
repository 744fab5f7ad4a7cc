/**
 * The app's one window: the only module that imports BrowserWindow. The renderer runs with the
 * settings of Electron's security checklist (context isolation, sandbox, no Node), cannot open
 * windows, cannot navigate away from the app's own page (nor can any other web contents:
 * guardAllWebContents), and gets no web permission.
 */
import { BrowserWindow, type App, type BrowserWindowConstructorOptions, type Session, type WebContents } from 'electron';
import type { AppPaths, RendererSource } from './app-url';

/** The constructor options; pure so tests check every security flag. */
export function windowOptions(paths: Pick<AppPaths, 'preload' | 'icon'>): BrowserWindowConstructorOptions {
  return {
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    title: 'MIAD Lab',
    // Linux and Windows show it in the title bar and taskbar; macOS takes the bundle's (or, in
    // development, the dock's: app.ts).
    icon: paths.icon,
    // Shown on ready-to-show, so the user never sees an empty white frame.
    show: false,
    // The UI's --bg (src/renderer/src/app.css), so a resize never flashes another colour.
    backgroundColor: '#f3f5f8',
    webPreferences: {
      preload: paths.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  };
}

type GuardedContents = Pick<WebContents, 'setWindowOpenHandler' | 'on'>;

/**
 * Denies window.open and target=_blank, and cancels any navigation or redirect, in any frame,
 * to a URL that is not the app's own page.
 */
export function guardWebContents(contents: GuardedContents, isAppUrl: (url: string) => boolean): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  const block = (event: { url: string; preventDefault(): void }) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  };
  contents.on('will-navigate', block);
  contents.on('will-frame-navigate', block);
  contents.on('will-redirect', block);
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/**
 * Guards every web contents the app ever creates (the main window's, and any other: a devtools
 * page, a frame's, a future window's) the moment it is created. The one place the guard is
 * installed: call it once, synchronously at startup, before any window exists.
 */
export function guardAllWebContents(app: Pick<App, 'on'>, isAppUrl: (url: string) => boolean): void {
  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, isAppUrl));
}

/** No camera, notifications, geolocation… for any page: the lab needs none of them. */
export function denyAllPermissions(session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

export interface MainWindowOptions {
  paths: AppPaths;
  source: RendererSource;
  /** Reports a page that failed to load (the window is shown anyway so the user sees it). */
  onLoadError?: (error: unknown) => void;
}

export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  // Its web contents is guarded by guardAllWebContents (app.ts), as every web contents is.
  const window = new BrowserWindow(windowOptions(options.paths));
  window.once('ready-to-show', () => window.show());
  const loaded = options.source.kind === 'url' ? window.loadURL(options.source.url) : window.loadFile(options.source.path);
  loaded.catch((error: unknown) => {
    options.onLoadError?.(error);
    if (!window.isDestroyed() && !window.isVisible()) window.show();
  });
  return window;
}
