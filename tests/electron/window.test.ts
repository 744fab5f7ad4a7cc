import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWebContents, resetFakeElectron } from './fake-electron';

vi.mock('electron', () => import('./fake-electron'));

const { windowOptions, guardWebContents, guardAllWebContents, denyAllPermissions, createMainWindow } = await import('../../src/main/electron/window');
const { appPaths, appUrlMatcher, mainDirOf, rendererSource } = await import('../../src/main/electron/app-url');
const { CONTENT_SECURITY_POLICY, withCsp, installCsp } = await import('../../src/main/electron/csp');
const fake = await import('./fake-electron');

const mainDir = resolve('/opt/miad-lab/out/main');
const paths = appPaths(mainDir);

beforeEach(() => resetFakeElectron());

describe('windowOptions', () => {
  it('isolates the renderer: context isolation, sandbox, no Node, web security, the built preload', () => {
    const options = windowOptions(paths);
    expect(options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      webviewTag: false,
      allowRunningInsecureContent: false,
      preload: join(mainDir, '..', 'preload', 'index.cjs'),
    });
    expect(options.show).toBe(false);
  });

  it('finds the preload and renderer beside the built main bundle', () => {
    expect(paths.preload).toBe(resolve('/opt/miad-lab/out/preload/index.cjs'));
    expect(paths.rendererIndex).toBe(resolve('/opt/miad-lab/out/renderer/index.html'));
    expect(paths.appRoot).toBe(resolve('/opt/miad-lab'));
    expect(paths.icon).toBe(resolve('/opt/miad-lab/resources/icon.png'));
    expect(windowOptions(paths).icon).toBe(paths.icon);
    expect(mainDirOf(pathToFileURL('/opt/miad-lab/out/main/index.js').href)).toBe(resolve('/opt/miad-lab/out/main'));
  });
});

describe('rendererSource and the app-URL test', () => {
  it('uses the dev server only when not packaged, else the built file', () => {
    expect(rendererSource(paths, 'http://localhost:5173', false)).toEqual({ kind: 'url', url: 'http://localhost:5173' });
    expect(rendererSource(paths, 'http://localhost:5173', true)).toEqual({ kind: 'file', path: paths.rendererIndex });
    expect(rendererSource(paths, undefined, false)).toEqual({ kind: 'file', path: paths.rendererIndex });
    expect(rendererSource(paths, 'file:///etc/passwd', false)).toEqual({ kind: 'file', path: paths.rendererIndex });
  });

  it('accepts exactly the built index.html, with any hash or query', () => {
    const isApp = appUrlMatcher({ kind: 'file', path: paths.rendererIndex }, 'linux');
    const index = pathToFileURL(paths.rendererIndex).href;
    expect(isApp(index)).toBe(true);
    expect(isApp(`${index}#/runs/3`)).toBe(true);
    expect(isApp(`${index}?x=1`)).toBe(true);
    expect(isApp(pathToFileURL(join(mainDir, '..', 'renderer', 'other.html')).href)).toBe(false);
    expect(isApp(pathToFileURL('/tmp/evil/index.html').href)).toBe(false);
    expect(isApp('file://remote-host/opt/miad-lab/out/renderer/index.html')).toBe(false);
    expect(isApp('https://example.com/')).toBe(false);
    expect(isApp('about:blank')).toBe(false);
    expect(isApp('not a url')).toBe(false);
  });

  it('accepts any page of the dev server origin and nothing else', () => {
    const isApp = appUrlMatcher({ kind: 'url', url: 'http://localhost:5173/' }, 'linux');
    expect(isApp('http://localhost:5173/')).toBe(true);
    expect(isApp('http://localhost:5173/src/main.ts')).toBe(true);
    expect(isApp('http://localhost:5174/')).toBe(false);
    expect(isApp('http://127.0.0.1:5173/')).toBe(false);
    expect(isApp(pathToFileURL(paths.rendererIndex).href)).toBe(false);
  });
});

describe('guardWebContents', () => {
  const isApp = appUrlMatcher({ kind: 'file', path: paths.rendererIndex }, 'linux');
  const navigate = (contents: FakeWebContents, event: string, url: string) => {
    let prevented = false;
    contents.emit(event, { url, preventDefault: () => (prevented = true) });
    return prevented;
  };

  it('denies every window.open', () => {
    const contents = new FakeWebContents();
    guardWebContents(contents as never, isApp);
    expect(contents.windowOpenHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    expect(contents.windowOpenHandler?.({ url: pathToFileURL(paths.rendererIndex).href })).toEqual({ action: 'deny' });
  });

  it('blocks navigation and redirects away from the app, allows the app itself', () => {
    const contents = new FakeWebContents();
    guardWebContents(contents as never, isApp);
    for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
      expect(navigate(contents, event, 'https://example.com/')).toBe(true);
      expect(navigate(contents, event, pathToFileURL('/etc/passwd').href)).toBe(true);
      expect(navigate(contents, event, pathToFileURL(paths.rendererIndex).href)).toBe(false);
    }
    let prevented = false;
    contents.emit('will-attach-webview', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
  });
});

describe('guardAllWebContents (issue 20: every web contents, not only the main window)', () => {
  const isApp = appUrlMatcher({ kind: 'file', path: paths.rendererIndex }, 'linux');

  it('guards each web contents the app creates: no window.open, no navigation away, no webview', () => {
    guardAllWebContents(fake.app as never, isApp);
    for (let i = 0; i < 2; i += 1) {
      const contents = new FakeWebContents();
      fake.app.emit('web-contents-created', {}, contents);
      expect(contents.windowOpenHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' });
      let prevented = false;
      contents.emit('will-navigate', { url: 'https://example.com/', preventDefault: () => (prevented = true) });
      expect(prevented).toBe(true);
      prevented = false;
      contents.emit('will-navigate', { url: pathToFileURL(paths.rendererIndex).href, preventDefault: () => (prevented = true) });
      expect(prevented).toBe(false);
      prevented = false;
      contents.emit('will-attach-webview', { preventDefault: () => (prevented = true) });
      expect(prevented).toBe(true);
    }
  });
});

describe('denyAllPermissions', () => {
  it('refuses every request and every check', () => {
    denyAllPermissions(fake.session.defaultSession as never);
    const granted: boolean[] = [];
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal']) {
      fake.calls.permissionRequest?.({}, permission, (ok: boolean) => granted.push(ok), {});
    }
    expect(granted).toEqual([false, false, false, false]);
    expect(fake.calls.permissionCheck?.(null, 'media', 'file://', {})).toBe(false);
  });
});

describe('createMainWindow', () => {
  it('creates the window with the secure options, guarded as every web contents is, and loads the built file', async () => {
    guardAllWebContents(fake.app as never, () => true);
    const window = createMainWindow({ paths, source: { kind: 'file', path: paths.rendererIndex } });
    const created = fake.BrowserWindow.instances[0];
    expect(created).toBe(window);
    expect(created?.options).toEqual(windowOptions(paths));
    expect(created?.loaded).toEqual({ kind: 'file', target: paths.rendererIndex });
    expect(created?.webContents.windowOpenHandler).not.toBeNull();
    expect(created?.visible).toBe(false);
    created?.emit('ready-to-show');
    expect(created?.visible).toBe(true);
  });

  it('loads the dev server URL in development', () => {
    createMainWindow({ paths, source: { kind: 'url', url: 'http://localhost:5173' } });
    expect(fake.BrowserWindow.instances[0]?.loaded).toEqual({ kind: 'url', target: 'http://localhost:5173' });
  });
});

describe('CSP header', () => {
  it('is the policy of the renderer meta tag, so the two cannot drift apart', () => {
    const html = readFileSync(resolve('src/renderer/index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html);
    expect(meta?.[1]).toBe(CONTENT_SECURITY_POLICY);
  });

  it('lets the page connect only to its own origin, not to any ws: or wss: host (issue 20)', () => {
    const connect = CONTENT_SECURITY_POLICY.split(';').map((d) => d.trim()).find((d) => d.startsWith('connect-src'));
    expect(connect).toBe("connect-src 'self'");
  });

  it('replaces any policy a response brings and keeps the other headers', () => {
    const headers = withCsp({ 'content-security-policy': ['default-src *'], 'Content-Type': ['text/html'] });
    expect(headers).toEqual({ 'Content-Type': ['text/html'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
    expect(withCsp(undefined)).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
  });

  it('is installed on every response of the session', () => {
    installCsp(fake.session.defaultSession as never);
    let answer: unknown;
    fake.calls.headersListener?.({ url: 'http://localhost:5173/', responseHeaders: { A: ['1'] } }, (r: unknown) => (answer = r));
    expect(answer).toEqual({ responseHeaders: { A: ['1'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
});
