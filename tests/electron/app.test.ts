import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MenuItemConstructorOptions } from 'electron';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { CALL_NAMES } from '../../src/shared/contract';
import { LAB_MENU_CHANNEL } from '../../src/shared/window-lab';
import { FakeHost } from './fake-host';
import { resetFakeElectron } from './fake-electron';

vi.mock('electron', () => import('./fake-electron'));

const fake = await import('./fake-electron');
const { startDesktopApp, APP_USER_MODEL_ID } = await import('../../src/main/electron/app');
const { windowOptions } = await import('../../src/main/electron/window');
const { CONTENT_SECURITY_POLICY } = await import('../../src/main/electron/csp');
const { menuTemplate } = await import('../../src/main/electron/menu');

const mainDir = resolve('/opt/miad-lab/out/main');
const INDEX = resolve('/opt/miad-lab/out/renderer/index.html');

function start(options: { platform?: NodeJS.Platform; env?: NodeJS.ProcessEnv; host?: FakeHost } = {}) {
  const host = options.host ?? new FakeHost();
  const hostOptions: unknown[] = [];
  const errors: string[] = [];
  const desktop = startDesktopApp({
    createHost: (o) => {
      hostOptions.push(o);
      return host;
    },
    mainDir,
    env: options.env ?? {},
    platform: options.platform ?? 'linux',
    logError: (message) => void errors.push(message),
  });
  return { desktop, host, hostOptions, errors };
}

function flatten(items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return items.flatMap((item) => [item, ...(Array.isArray(item.submenu) ? flatten(item.submenu) : [])]);
}

beforeEach(() => resetFakeElectron());

describe('startDesktopApp', () => {
  it('registers the scheme before ready, then wires host, CSP, permissions, protocol, IPC, menu and window', async () => {
    const { desktop, hostOptions } = start();
    // Synchronously, before the ready promise runs:
    expect(fake.calls.privilegedSchemes).toHaveLength(1);
    expect(fake.calls.ipcHandlers.size).toBe(0);
    await desktop.ready;

    expect(desktop.primary).toBe(true);
    expect(hostOptions).toEqual([
      { door: 'electron', configDir: '/fake/userData', defaultWorkspacesDir: join('/fake/documents', 'MIAD Lab'), pickFolder: expect.any(Function), version: expect.any(String) },
    ]);
    expect(fake.calls.protocolHandlers.has('miad-file')).toBe(true);
    expect([...fake.calls.ipcHandlers.keys()].sort()).toEqual([...CALL_NAMES].sort());
    expect(fake.calls.permissionCheck?.()).toBe(false);
    let headers: unknown;
    fake.calls.headersListener?.({ responseHeaders: {} }, (r: unknown) => (headers = r));
    expect(headers).toEqual({ responseHeaders: { 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });

    expect(fake.BrowserWindow.instances).toHaveLength(1);
    const window = fake.BrowserWindow.instances[0]!;
    expect(window.options).toEqual(windowOptions({ preload: join(mainDir, '..', 'preload', 'index.cjs'), icon: join(mainDir, '..', '..', 'resources', 'icon.png') }));
    expect(window.loaded).toEqual({ kind: 'file', target: INDEX });
    expect(fake.calls.menu?.template.map((m) => m.label ?? m.role)).toEqual(['File', 'editMenu', 'View', 'help']);
    expect(fake.app.userModelId).toBeNull();
  });

  it('serves IPC to the window it created and refuses other senders', async () => {
    const { desktop } = start();
    await desktop.ready;
    const window = fake.BrowserWindow.instances[0]!;
    const info = fake.calls.ipcHandlers.get('app:info')!;
    const ok = await info({ sender: window.webContents, senderFrame: { url: pathToFileURL(INDEX).href } }, {});
    expect(ok).toMatchObject({ ok: true });
    const foreign = await info({ sender: window.webContents, senderFrame: { url: 'https://evil.example/' } }, {});
    expect(foreign).toMatchObject({ ok: false, error: { name: 'ForbiddenError' } });
  });

  it('loads the dev server in development', async () => {
    const { desktop } = start({ env: { ELECTRON_RENDERER_URL: 'http://localhost:5173' } });
    await desktop.ready;
    expect(fake.BrowserWindow.instances[0]?.loaded).toEqual({ kind: 'url', target: 'http://localhost:5173' });
  });

  it('quits at once when another instance holds the lock', async () => {
    fake.app.gotLock = false;
    const { desktop } = start();
    await desktop.ready;
    expect(desktop.primary).toBe(false);
    expect(fake.app.quitCalls).toBe(1);
    expect(fake.calls.privilegedSchemes).toHaveLength(0);
    expect(fake.BrowserWindow.instances).toHaveLength(0);
  });

  it('focuses and restores the window on a second instance', async () => {
    const { desktop } = start();
    await desktop.ready;
    const window = fake.BrowserWindow.instances[0]!;
    window.minimized = true;
    fake.app.emit('second-instance', {}, ['miad-lab'], '/');
    expect(window.minimized).toBe(false);
    expect(window.visible).toBe(true);
    expect(window.focused).toBe(1);
  });

  it('quits when the last window closes except on macOS, where the dock reopens one', async () => {
    const linux = start();
    await linux.desktop.ready;
    fake.app.emit('window-all-closed');
    expect(fake.app.quitCalls).toBe(1);

    resetFakeElectron();
    const mac = start({ platform: 'darwin' });
    await mac.desktop.ready;
    fake.BrowserWindow.instances[0]!.close();
    fake.app.emit('window-all-closed');
    expect(fake.app.quitCalls).toBe(0);
    fake.app.emit('activate');
    expect(fake.BrowserWindow.instances).toHaveLength(2);
    expect(fake.calls.menu?.template[0]?.label).toBe('MIAD Lab');
  });

  it('holds the quit until the host is closed, then quits once more', async () => {
    const { desktop, host } = start();
    await desktop.ready;
    const first = fake.app.emitPreventable('will-quit');
    expect(first.prevented).toBe(true);
    expect(host.closed).toBe(1);
    await vi.waitFor(() => expect(fake.app.quitCalls).toBe(1));
    expect(fake.calls.ipcHandlers.size).toBe(0);
    const second = fake.app.emitPreventable('will-quit');
    expect(second.prevented).toBe(false);
    expect(host.closed).toBe(1);
  });

  it('sends menu commands to the window', async () => {
    const { desktop } = start();
    await desktop.ready;
    const items = flatten(fake.calls.menu!.template);
    const open = items.find((item) => item.label === 'Open Workspace…');
    (open?.click as () => void)();
    expect(fake.BrowserWindow.instances[0]!.webContents.sent).toEqual([{ channel: LAB_MENU_CHANNEL, message: { command: 'open-workspace' } }]);
  });

  it('gives the host a folder picker modal to the window', async () => {
    const { desktop, hostOptions } = start();
    await desktop.ready;
    const { pickFolder } = hostOptions[0] as { pickFolder: (title?: string) => Promise<string | null> };
    fake.calls.nextOpenDialog = { canceled: false, filePaths: ['/data/MIAD'] };
    await expect(pickFolder('Import MIAD')).resolves.toBe('/data/MIAD');
    expect(fake.calls.openDialogs[0]).toEqual({
      parent: fake.BrowserWindow.instances[0],
      options: { title: 'Import MIAD', properties: ['openDirectory', 'createDirectory'] },
    });
    fake.calls.nextOpenDialog = { canceled: true, filePaths: [] };
    await expect(pickFolder()).resolves.toBeNull();
  });

  it('sets the Windows app id, and falls back to home without a documents folder', async () => {
    fake.app.documentsMissing = true;
    const { desktop, hostOptions } = start({ platform: 'win32' });
    await desktop.ready;
    expect(fake.app.userModelId).toBe(APP_USER_MODEL_ID);
    expect((hostOptions[0] as { defaultWorkspacesDir: string }).defaultWorkspacesDir).toBe(join('/fake/home', 'MIAD Lab'));
  });

  it('shows an error box and quits when the host cannot start', async () => {
    const errors: string[] = [];
    const desktop = startDesktopApp({
      createHost: () => Promise.reject(new Error('config folder is read-only')),
      mainDir,
      env: {},
      platform: 'linux',
      logError: (message) => void errors.push(message),
    });
    await desktop.ready;
    expect(fake.calls.errorBoxes).toEqual([{ title: 'MIAD Lab could not start', content: 'config folder is read-only' }]);
    expect(fake.app.quitCalls).toBe(1);
    expect(fake.BrowserWindow.instances).toHaveLength(0);
    expect(errors).toEqual(['[app] startup failed']);
  });
});

describe('every web contents is guarded, in one place (issue 20)', () => {
  it('guards contents created after start, before the app is even ready, and the main window', async () => {
    const { desktop } = start();
    const early = new fake.FakeWebContents();
    fake.app.emit('web-contents-created', {}, early);
    expect(early.windowOpenHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    await desktop.ready;
    const later = new fake.FakeWebContents();
    fake.app.emit('web-contents-created', {}, later);
    let prevented = false;
    later.emit('will-navigate', { url: 'https://example.com/', preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
    expect(fake.BrowserWindow.instances[0]?.webContents.windowOpenHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' });
  });
});

describe('DevTools only in development (issue 20)', () => {
  const roles = () => flatten(fake.calls.menu?.template ?? []).map((item) => item.role);

  it('the packaged app has no DevTools item', async () => {
    fake.app.isPackaged = true;
    await start().desktop.ready;
    expect(roles()).toContain('reload');
    expect(roles()).not.toContain('toggleDevTools');
  });

  it('an unpackaged (development) app has it', async () => {
    await start({ env: { ELECTRON_RENDERER_URL: 'http://localhost:5173' } }).desktop.ready;
    expect(roles()).toContain('toggleDevTools');
  });

  it('menuTemplate leaves it out unless asked', () => {
    const actions = { send: () => {}, about: () => {} };
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      expect(flatten(menuTemplate(platform, actions)).map((item) => item.role)).not.toContain('toggleDevTools');
      expect(flatten(menuTemplate(platform, actions, 'MIAD Lab', { devTools: true })).map((item) => item.role)).toContain('toggleDevTools');
    }
  });
});

describe('menuTemplate', () => {
  it('has File (open, demo, export, close, quit), Edit, View (reload, devtools, zoom) and Help (About)', () => {
    const sent: string[] = [];
    let abouts = 0;
    const template = menuTemplate('linux', { send: (c) => void sent.push(c), about: () => void (abouts += 1) }, 'MIAD Lab', { devTools: true });
    const items = flatten(template);
    const roles = items.map((item) => item.role).filter(Boolean);
    expect(roles).toEqual(expect.arrayContaining(['quit', 'reload', 'toggleDevTools', 'resetZoom', 'zoomIn', 'zoomOut', 'editMenu']));
    for (const item of items) if (item.click && item.label !== 'About MIAD Lab') (item.click as () => void)();
    expect(sent).toEqual(['open-workspace', 'create-demo-workspace', 'export-dataset', 'close-workspace']);
    expect(items.find((item) => item.label === 'Export Curated Dataset…')?.accelerator).toBe('CmdOrCtrl+Shift+E');
    (items.find((item) => item.label === 'About MIAD Lab')?.click as () => void)();
    expect(abouts).toBe(1);
  });
});
