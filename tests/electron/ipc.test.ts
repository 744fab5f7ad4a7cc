import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CALL_NAMES } from '../../src/shared/contract';
import { LAB_EVENT_CHANNEL } from '../../src/shared/window-lab';
import { callHandler, isTrustedSender, registerIpc } from '../../src/main/electron/ipc';
import { FakeHost } from './fake-host';
import { FakeWebContents } from './fake-electron';

const INDEX = '/opt/miad-lab/out/renderer/index.html';
const isAppUrl = (url: string) => url.split('#')[0] === pathToFileURL(INDEX).href;

function setup() {
  const contents = new FakeWebContents();
  const host = new FakeHost();
  const handlers = new Map<string, (event: unknown, input: unknown) => Promise<unknown>>();
  const removed: string[] = [];
  const logged: string[] = [];
  const dispose = registerIpc({
    ipcMain: {
      handle: (channel: string, handler: (event: never, input: unknown) => Promise<unknown>) => void handlers.set(channel, handler as never),
      removeHandler: (channel: string) => void removed.push(channel),
    } as never,
    host,
    trusted: () => contents as never,
    isAppUrl,
    logError: (message) => void logged.push(message),
  });
  const ours = { sender: contents, senderFrame: { url: pathToFileURL(INDEX).href } };
  return { contents, host, handlers, removed, logged, dispose, ours };
}

describe('registerIpc', () => {
  it('registers exactly one handler per call of the contract', () => {
    const { handlers } = setup();
    expect([...handlers.keys()].sort()).toEqual([...CALL_NAMES].sort());
  });

  it('passes a call from our window to the host and wraps the result', async () => {
    const { handlers, host, ours } = setup();
    const answer = await handlers.get('app:info')?.(ours, {});
    expect(answer).toEqual({ ok: true, result: { name: 'MIAD Lab', version: '0.1.0', door: 'electron', workspace: null } });
    expect(host.invoked).toEqual([{ name: 'app:info', input: {} }]);
  });

  it('refuses a call from a foreign frame URL with ForbiddenError, without reaching the host', async () => {
    const { handlers, host, contents } = setup();
    for (const url of ['https://evil.example/', pathToFileURL('/tmp/page.html').href, 'about:blank']) {
      const answer = await handlers.get('workspaces:open')?.({ sender: contents, senderFrame: { url } }, { dir: '/tmp' });
      expect(answer).toMatchObject({ ok: false, error: { name: 'ForbiddenError' } });
    }
    expect(host.invoked).toEqual([]);
  });

  it('refuses a call from another webContents, and from a frame that is gone', async () => {
    const { handlers, host, ours } = setup();
    const other = await handlers.get('app:info')?.({ ...ours, sender: new FakeWebContents() }, {});
    expect(other).toMatchObject({ ok: false, error: { name: 'ForbiddenError' } });
    const gone = await handlers.get('app:info')?.({ ...ours, senderFrame: null }, {});
    expect(gone).toMatchObject({ ok: false, error: { name: 'ForbiddenError' } });
    const throwing = {
      sender: ours.sender,
      get senderFrame(): never {
        throw new Error('Render frame was disposed before WebFrameMain could be accessed');
      },
    };
    expect(await handlers.get('app:info')?.(throwing, {})).toMatchObject({ ok: false, error: { name: 'ForbiddenError' } });
    expect(host.invoked).toEqual([]);
  });

  it('returns invalid input as a ValidationError envelope naming the field', async () => {
    const { handlers, ours, logged } = setup();
    const answer = (await handlers.get('samples:list')?.(ours, { datasetId: -3 })) as { ok: false; error: { name: string; message: string } };
    expect(answer.ok).toBe(false);
    expect(answer.error.name).toBe('ValidationError');
    expect(answer.error.message).toContain('datasetId');
    const extra = await handlers.get('app:info')?.(ours, { sneaky: true });
    expect(extra).toMatchObject({ ok: false, error: { name: 'ValidationError' } });
    expect(logged).toEqual([]);
  });

  it('keeps the name of the host errors and logs only unexpected ones', async () => {
    const { handlers, ours, logged } = setup();
    expect(await handlers.get('workspaces:open')?.(ours, { dir: '/nowhere' })).toEqual({
      ok: false,
      error: { name: 'NotFoundError', message: 'no workspace at /nowhere' },
    });
    expect(logged).toEqual([]);
    expect(await handlers.get('datasets:list')?.(ours, {})).toEqual({
      ok: false,
      error: { name: 'TypeError', message: 'boom: a bug in the core' },
    });
    expect(logged).toEqual(['[ipc] datasets:list failed']);
  });

  it('forwards host events to the window as { event, payload }, not to a destroyed one', () => {
    const { host, contents } = setup();
    host.emit('workspaces:changed', { workspace: null });
    expect(contents.sent).toEqual([{ channel: LAB_EVENT_CHANNEL, message: { event: 'workspaces:changed', payload: { workspace: null } } }]);
    contents.destroyed = true;
    host.emit('workspaces:changed', { workspace: null });
    expect(contents.sent).toHaveLength(1);
  });

  it('undoes everything on dispose', () => {
    const { host, removed, dispose } = setup();
    expect(host.listeners.size).toBe(1);
    dispose();
    expect(host.listeners.size).toBe(0);
    expect(removed.sort()).toEqual([...CALL_NAMES].sort());
  });
});

describe('isTrustedSender without a window', () => {
  it('refuses everything while no window exists', () => {
    const sender = new FakeWebContents();
    expect(isTrustedSender({ sender, senderFrame: { url: pathToFileURL(INDEX).href } } as never, () => null, () => true)).toBe(false);
  });

  it('callHandler answers ForbiddenError when no window exists', async () => {
    const host = new FakeHost();
    const handler = callHandler('app:info', { host, trusted: () => null, isAppUrl: () => true });
    expect(await handler({ sender: new FakeWebContents(), senderFrame: { url: 'x' } } as never, {})).toMatchObject({
      ok: false,
      error: { name: 'ForbiddenError' },
    });
  });
});
