/**
 * A fake of the `electron` module for tests in Node (the binary cannot run here): just the
 * APIs the adapter touches, recording what they were asked. Tests mock 'electron' with it
 * (`vi.mock('electron', () => import('./fake-electron'))`) and call `resetFakeElectron()` first.
 */
import { EventEmitter } from 'node:events';
import type { BrowserWindowConstructorOptions, MenuItemConstructorOptions, OpenDialogOptions } from 'electron';

type Listener = (...args: unknown[]) => unknown;

export class FakeWebContents extends EventEmitter {
  sent: Array<{ channel: string; message: unknown }> = [];
  windowOpenHandler: ((details: unknown) => { action: string }) | null = null;
  destroyed = false;
  send(channel: string, message: unknown): void {
    this.sent.push({ channel, message });
  }
  setWindowOpenHandler(handler: (details: unknown) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

export class BrowserWindow extends EventEmitter {
  static instances: BrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  loaded: { kind: 'url' | 'file'; target: string } | null = null;
  destroyed = false;
  minimized = false;
  visible = false;
  focused = 0;
  constructor(readonly options: BrowserWindowConstructorOptions) {
    super();
    BrowserWindow.instances.push(this);
    // As Electron does for every web contents it creates.
    app.emit('web-contents-created', {}, this.webContents);
  }
  loadURL(url: string): Promise<void> {
    this.loaded = { kind: 'url', target: url };
    return Promise.resolve();
  }
  loadFile(path: string): Promise<void> {
    this.loaded = { kind: 'file', target: path };
    return Promise.resolve();
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  isVisible(): boolean {
    return this.visible;
  }
  restore(): void {
    this.minimized = false;
  }
  show(): void {
    this.visible = true;
  }
  focus(): void {
    this.focused += 1;
  }
  progress: Array<{ value: number; mode: string | undefined }> = [];
  setProgressBar(value: number, options?: { mode: string }): void {
    this.progress.push({ value, mode: options?.mode });
  }
  /** What closing the window does in Electron, as far as the app can see. */
  close(): void {
    this.destroyed = true;
    this.webContents.destroyed = true;
    this.emit('closed');
  }
}

class FakeApp extends EventEmitter {
  gotLock = true;
  isPackaged = false;
  quitCalls = 0;
  userModelId: string | null = null;
  documentsMissing = false;
  requestSingleInstanceLock(): boolean {
    return this.gotLock;
  }
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  quit(): void {
    this.quitCalls += 1;
  }
  setAppUserModelId(id: string): void {
    this.userModelId = id;
  }
  getPath(name: string): string {
    if (name === 'documents' && this.documentsMissing) throw new Error('Failed to get documents path');
    return `/fake/${name}`;
  }
  getVersion(): string {
    return '9.9.9';
  }
  /** Emits an event the way Electron does for events with a preventable default. */
  emitPreventable(name: string, ...args: unknown[]): { prevented: boolean } {
    const state = { prevented: false };
    this.emit(name, { preventDefault: () => (state.prevented = true) }, ...args);
    return state;
  }
}

export const app = new FakeApp();

export const calls = {
  privilegedSchemes: [] as unknown[],
  protocolHandlers: new Map<string, (request: Request) => Promise<Response>>(),
  headersListener: null as Listener | null,
  permissionRequest: null as Listener | null,
  permissionCheck: null as ((...args: unknown[]) => boolean) | null,
  ipcHandlers: new Map<string, Listener>(),
  removedHandlers: [] as string[],
  menu: null as { template: MenuItemConstructorOptions[] } | null,
  errorBoxes: [] as Array<{ title: string; content: string }>,
  openDialogs: [] as Array<{ parent: unknown; options: OpenDialogOptions }>,
  nextOpenDialog: { canceled: true, filePaths: [] as string[] },
  exposed: new Map<string, unknown>(),
  netFetch: [] as string[],
  notifications: [] as Array<{ title: string; body: string }>,
  blockers: new Map<number, string>(),
  nextBlockerId: 1,
  notificationsSupported: true,
};

export const protocol = {
  registerSchemesAsPrivileged(schemes: unknown[]): void {
    calls.privilegedSchemes.push(...schemes);
  },
  handle(scheme: string, handler: (request: Request) => Promise<Response>): void {
    calls.protocolHandlers.set(scheme, handler);
  },
};

export const session = {
  defaultSession: {
    webRequest: {
      onHeadersReceived(listener: Listener): void {
        calls.headersListener = listener;
      },
    },
    setPermissionRequestHandler(handler: Listener): void {
      calls.permissionRequest = handler;
    },
    setPermissionCheckHandler(handler: (...args: unknown[]) => boolean): void {
      calls.permissionCheck = handler;
    },
  },
};

export const ipcMain = {
  handle(channel: string, handler: Listener): void {
    if (calls.ipcHandlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    calls.ipcHandlers.set(channel, handler);
  },
  removeHandler(channel: string): void {
    calls.ipcHandlers.delete(channel);
    calls.removedHandlers.push(channel);
  },
};

export const powerSaveBlocker = {
  start(type: string): number {
    const id = calls.nextBlockerId++;
    calls.blockers.set(id, type);
    return id;
  },
  stop(id: number): void {
    calls.blockers.delete(id);
  },
  isStarted(id: number): boolean {
    return calls.blockers.has(id);
  },
};

export class Notification {
  static isSupported(): boolean {
    return calls.notificationsSupported;
  }
  constructor(readonly options: { title: string; body: string }) {}
  show(): void {
    calls.notifications.push(this.options);
  }
}

export const net = {
  fetch(url: string): Promise<Response> {
    calls.netFetch.push(url);
    return Promise.resolve(new Response('fake', { status: 200 }));
  },
};

export const Menu = {
  buildFromTemplate(template: MenuItemConstructorOptions[]): { template: MenuItemConstructorOptions[] } {
    return { template };
  },
  setApplicationMenu(menu: { template: MenuItemConstructorOptions[] } | null): void {
    calls.menu = menu;
  },
};

export const dialog = {
  showOpenDialog(...args: unknown[]): Promise<{ canceled: boolean; filePaths: string[] }> {
    const [parent, options] = args.length === 2 ? args : [null, args[0]];
    calls.openDialogs.push({ parent, options: options as OpenDialogOptions });
    return Promise.resolve(calls.nextOpenDialog);
  },
  showMessageBox(): Promise<{ response: number }> {
    return Promise.resolve({ response: 0 });
  },
  showErrorBox(title: string, content: string): void {
    calls.errorBoxes.push({ title, content });
  },
};

export class FakeIpcRenderer extends EventEmitter {
  invoked: Array<{ channel: string; input: unknown }> = [];
  /** What invoke answers; tests replace it (e.g. with a bridge to ipc.ts handlers). */
  answer: (channel: string, input: unknown) => Promise<unknown> = async () => ({ ok: true, result: null });
  invoke(channel: string, input: unknown): Promise<unknown> {
    this.invoked.push({ channel, input });
    return this.answer(channel, input);
  }
}

export const ipcRenderer = new FakeIpcRenderer();

export const contextBridge = {
  exposeInMainWorld(key: string, api: unknown): void {
    calls.exposed.set(key, api);
  },
};

export function resetFakeElectron(): void {
  app.removeAllListeners();
  Object.assign(app, { gotLock: true, isPackaged: false, quitCalls: 0, userModelId: null, documentsMissing: false });
  BrowserWindow.instances = [];
  calls.privilegedSchemes = [];
  calls.protocolHandlers = new Map();
  calls.headersListener = null;
  calls.permissionRequest = null;
  calls.permissionCheck = null;
  calls.ipcHandlers = new Map();
  calls.removedHandlers = [];
  calls.menu = null;
  calls.errorBoxes = [];
  calls.openDialogs = [];
  calls.nextOpenDialog = { canceled: true, filePaths: [] };
  calls.exposed = new Map();
  calls.netFetch = [];
  calls.notifications = [];
  calls.blockers = new Map();
  calls.nextBlockerId = 1;
  calls.notificationsSupported = true;
  ipcRenderer.removeAllListeners();
  ipcRenderer.invoked = [];
  ipcRenderer.answer = async () => ({ ok: true, result: null });
}

export default { app, protocol, session, ipcMain, net, Menu, dialog, BrowserWindow, ipcRenderer, contextBridge, powerSaveBlocker, Notification };
