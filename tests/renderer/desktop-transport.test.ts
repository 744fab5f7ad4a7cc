/**
 * The desktop transport over a `window.lab` built by the real preload code (buildWindowLab)
 * with a fake ipcRenderer, so the error encoding across contextBridge is checked end to end.
 */
import { describe, expect, it } from 'vitest';
import { createDesktopTransport, findWindowLab } from '../../src/renderer/src/lib/api/transport';
import type { WindowLab } from '../../src/shared/window-lab';
import { bridgedErrorMessage } from '../../src/shared/window-lab';

function fakeWindowLab(): { lab: WindowLab; menu: ((c: 'close-workspace') => void)[] } {
  const menu: ((c: 'close-workspace') => void)[] = [];
  const lab = {
    'app:info': async (input: unknown) => ({ echo: input }),
    'workspaces:open': async () => {
      // What crosses contextBridge: an Error whose only surviving part is the message.
      throw new Error(bridgedErrorMessage('workspaces:open', { name: 'NotFoundError', message: 'no MIAD Lab workspace at /x' }));
    },
    'workspaces:close': async () => {
      throw new Error('plain failure');
    },
    on: () => () => {},
    onMenu: (listener: (c: 'close-workspace') => void) => {
      menu.push(listener);
      return () => {};
    },
    fileUrl: (p: string) => `miad-file://local/${encodeURIComponent(p)}`,
  } as unknown as WindowLab;
  return { lab, menu };
}

describe('desktop transport', () => {
  it('finds window.lab only when it looks like the preload object', () => {
    const { lab } = fakeWindowLab();
    expect(findWindowLab({ lab })).toBe(lab);
    expect(findWindowLab({})).toBeNull();
    expect(findWindowLab({ lab: { on: 1 } })).toBeNull();
  });

  it('forwards calls and file URLs to window.lab', async () => {
    const t = createDesktopTransport(fakeWindowLab().lab);
    await expect(t.call('app:info', { x: 1 })).resolves.toEqual({ echo: { x: 1 } });
    expect(t.fileUrl('/a b.png')).toBe('miad-file://local/%2Fa%20b.png');
    await expect(t.eventsReady(10)).resolves.toBe(true);
  });

  it('restores the error name that contextBridge dropped', async () => {
    const t = createDesktopTransport(fakeWindowLab().lab);
    const error = (await t.call('workspaces:open', { dir: '/x' }).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('NotFoundError');
    expect(error.message).toBe('no MIAD Lab workspace at /x');
    const plain = (await t.call('workspaces:close', {}).catch((e: unknown) => e)) as Error;
    expect(plain.message).toBe('plain failure');
  });

  it('passes menu commands through', () => {
    const { lab, menu } = fakeWindowLab();
    const got: string[] = [];
    createDesktopTransport(lab).onMenu((c) => got.push(c));
    menu[0]!('close-workspace');
    expect(got).toEqual(['close-workspace']);
  });
});
