import { pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { CALL_NAMES } from '../../src/shared/contract';
import { fileProtocolUrl } from '../../src/shared/files';
import { errorFromBridge, LAB_EVENT_CHANNEL, LAB_MENU_CHANNEL, type WindowLab } from '../../src/shared/window-lab';
import { registerIpc } from '../../src/main/electron/ipc';
import { FakeHost } from './fake-host';
import { FakeIpcRenderer, FakeWebContents, resetFakeElectron } from './fake-electron';

vi.mock('electron', () => import('./fake-electron'));

const fake = await import('./fake-electron');
const { buildWindowLab } = await import('../../src/preload/index');

/** What contextBridge does to a rejection: a new Error carrying the message only (electron#25596). */
async function acrossBridge<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw new Error((error as Error).message);
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const INDEX_URL = pathToFileURL('/opt/miad-lab/out/renderer/index.html').href;

/** A preload whose ipcRenderer reaches the real ipc.ts handlers over a fake host. */
function connected() {
  const ipc = new FakeIpcRenderer();
  const contents = new FakeWebContents();
  const host = new FakeHost();
  const handlers = new Map<string, (event: unknown, input: unknown) => Promise<unknown>>();
  registerIpc({
    ipcMain: { handle: (c: string, h: never) => void handlers.set(c, h), removeHandler: () => {} } as never,
    host,
    trusted: () => contents as never,
    isAppUrl: (url) => url === INDEX_URL,
    logError: () => {},
  });
  // Electron structured-clones the input on the way in and the answer on the way out.
  ipc.answer = async (channel, input) => structuredClone(await handlers.get(channel)!({ sender: contents, senderFrame: { url: INDEX_URL } }, structuredClone(input)));
  contents.send = (channel: string, message: unknown) => void ipc.emit(channel, { sender: ipc }, structuredClone(message));
  return { lab: buildWindowLab(ipc), ipc, host, contents };
}

beforeEach(() => resetFakeElectron());

describe('the preload', () => {
  it('exposes window.lab with exactly one method per call plus on, onMenu and fileUrl', () => {
    const lab = buildWindowLab(fake.ipcRenderer);
    const keys = Object.keys(lab).sort();
    expect(keys).toEqual([...CALL_NAMES, 'fileUrl', 'on', 'onMenu'].sort());
    for (const key of keys) expect(typeof (lab as unknown as Record<string, unknown>)[key]).toBe('function');
  });

  it('calls exposeInMainWorld("lab", ...) on load and never exposes ipcRenderer', async () => {
    vi.resetModules();
    resetFakeElectron();
    await import('../../src/preload/index');
    expect([...fake.calls.exposed.keys()]).toEqual(['lab']);
    const lab = fake.calls.exposed.get('lab') as Record<string, unknown>;
    for (const value of Object.values(lab)) expect(value).not.toBe(fake.ipcRenderer);
    expect(Object.keys(lab)).toHaveLength(CALL_NAMES.length + 3);
  });

  it('invokes the call name with the input and resolves with the unwrapped result', async () => {
    const ipc = new FakeIpcRenderer();
    ipc.answer = async () => ({ ok: true, result: { total: 0, samples: [] } });
    const lab = buildWindowLab(ipc);
    await expect(lab['samples:list']({ datasetId: 1 })).resolves.toEqual({ total: 0, samples: [] });
    expect(ipc.invoked).toEqual([{ channel: 'samples:list', input: { datasetId: 1 } }]);
  });

  it('rejects a failed envelope with the error name, recoverable after contextBridge strips it', async () => {
    const ipc = new FakeIpcRenderer();
    ipc.answer = async () => ({ ok: false, error: { name: 'ValidationError', message: 'invalid input for samples:list: datasetId: too small' } });
    const lab = buildWindowLab(ipc);
    const direct = await rejection(lab['samples:list']({ datasetId: 0 }));
    expect(direct.name).toBe('ValidationError');
    const bridged = await rejection(acrossBridge(lab['samples:list']({ datasetId: 0 })));
    expect(bridged.name).toBe('Error');
    const restored = errorFromBridge(bridged);
    expect(restored).toBeInstanceOf(Error);
    expect(restored.name).toBe('ValidationError');
    expect(restored.message).toBe('invalid input for samples:list: datasetId: too small');
  });

  it('rejects a malformed answer and passes an invoke failure through readably', async () => {
    const ipc = new FakeIpcRenderer();
    ipc.answer = async () => 'not an envelope';
    const lab = buildWindowLab(ipc);
    const malformed = errorFromBridge(await rejection(lab['app:info']({})));
    expect(malformed.name).toBe('LabError');
    ipc.answer = () => Promise.reject(new Error("Error invoking remote method 'app:info': Error: No handler registered for 'app:info'"));
    const missing = errorFromBridge(await rejection(lab['app:info']({})));
    expect(missing.message).toBe("No handler registered for 'app:info'");
  });

  it('delivers only known events, payload only, through one IPC listener; unsubscribe works', () => {
    const ipc = new FakeIpcRenderer();
    const lab = buildWindowLab(ipc);
    const got: unknown[] = [];
    const stopA = lab.on('workspaces:changed', (payload) => got.push(['a', payload]));
    const stopB = lab.on('workspaces:demoProgress', (payload) => got.push(['b', payload]));
    expect(ipc.listenerCount(LAB_EVENT_CHANNEL)).toBe(1);
    ipc.emit(LAB_EVENT_CHANNEL, { sender: ipc }, { event: 'workspaces:changed', payload: { workspace: null } });
    ipc.emit(LAB_EVENT_CHANNEL, { sender: ipc }, { event: 'not:known', payload: 1 });
    ipc.emit(LAB_EVENT_CHANNEL, { sender: ipc }, 'garbage');
    expect(got).toEqual([['a', { workspace: null }]]);
    stopA();
    stopA();
    stopB();
    expect(ipc.listenerCount(LAB_EVENT_CHANNEL)).toBe(0);
    expect(() => lab.on('nope:never' as never, () => {})).toThrow(/unknown lab event/);
  });

  it('delivers menu commands it knows and ignores others', () => {
    const ipc = new FakeIpcRenderer();
    const lab = buildWindowLab(ipc);
    const got: string[] = [];
    const stop = lab.onMenu((command) => got.push(command));
    ipc.emit(LAB_MENU_CHANNEL, { sender: ipc }, { command: 'open-workspace' });
    ipc.emit(LAB_MENU_CHANNEL, { sender: ipc }, { command: 'format-disk' });
    expect(got).toEqual(['open-workspace']);
    stop();
    expect(ipc.listenerCount(LAB_MENU_CHANNEL)).toBe(0);
  });

  it('builds file URLs with the shared naming', () => {
    const lab = buildWindowLab(new FakeIpcRenderer());
    expect(lab.fileUrl('/data/MIAD/a b.png')).toBe(fileProtocolUrl('/data/MIAD/a b.png'));
    expect(() => lab.fileUrl('')).toThrow();
  });
});

describe('preload ↔ ipc handlers, end to end over fake IPC', () => {
  it('a good call returns the result, bad input a ValidationError, host errors keep their names', async () => {
    const { lab }: { lab: WindowLab } = connected();
    await expect(lab['app:info']({})).resolves.toMatchObject({ door: 'electron' });
    const invalid = errorFromBridge(await rejection(acrossBridge(lab['samples:list']({ datasetId: -1 }))));
    expect(invalid.name).toBe('ValidationError');
    expect(invalid.message).toContain('datasetId');
    const missing = errorFromBridge(await rejection(acrossBridge(lab['workspaces:open']({ dir: '/nowhere' }))));
    expect([missing.name, missing.message]).toEqual(['NotFoundError', 'no workspace at /nowhere']);
  });

  it('host events reach the page listener', () => {
    const { lab, host } = connected();
    const got: unknown[] = [];
    lab.on('workspaces:changed', (payload) => got.push(payload));
    host.emit('workspaces:changed', { workspace: null });
    expect(got).toEqual([{ workspace: null }]);
  });
});

describe('the preload bundle', () => {
  it('runs in a sandbox that can require nothing but electron', async () => {
    const result = await build({
      entryPoints: ['src/preload/index.ts'],
      bundle: true,
      format: 'cjs',
      platform: 'browser',
      external: ['electron'],
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.text;
    const exposed = new Map<string, unknown>();
    const required: string[] = [];
    const sandboxRequire = (id: string) => {
      required.push(id);
      if (id !== 'electron') throw new Error(`module not found: ${id}`);
      return { contextBridge: { exposeInMainWorld: (k: string, v: unknown) => exposed.set(k, v) }, ipcRenderer: new FakeIpcRenderer() };
    };
    runInNewContext(code, { require: sandboxRequire, module: { exports: {} }, exports: {}, console });
    expect([...new Set(required)]).toEqual(['electron']);
    expect(Object.keys(exposed.get('lab') as object)).toHaveLength(CALL_NAMES.length + 3);
  });
});
