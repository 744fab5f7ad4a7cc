/**
 * Issue 20, defect 1 (the doors): the HTTP and IPC doors take the same, small, mask payload. One
 * constant (MASK_PNG_BASE64_MAX, in the contract) bounds `annotate:saveMask` behind both doors, and
 * the server's body limit is made from it, so a mask that saves on the desktop saves in the browser
 * too, and one over the limit is refused alike (400 ValidationError, not a 413 from one door only).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IpcMainInvokeEvent } from 'electron';
import { MASK_PNG_BASE64_MAX, type Annotation } from '../../src/shared/calls/annotate';
import { CALL_BODY_MAX_BYTES, type CallResponse } from '../../src/shared/http';
import { encodePng, pngChunk } from '../../src/main/core/image/png';
import { startLabServer, type LabServer } from '../../src/main/server/server';
import { callHandler } from '../../src/main/electron/ipc';
import type { LabHost } from '../../src/main/core/host';
import { useTmpDirs } from '../helpers/tmp';
import { H, W, openSmallWorkspace } from '../annotate/helpers';

const tmp = useTmpDirs();
let server: LabServer;
let host: LabHost;
let sampleId: number;
const auth = { authorization: 'Bearer mask-limit-token', 'content-type': 'application/json' };

// The IPC door as the window calls it: our webContents, from the app's own page.
const contents = { send: () => undefined, isDestroyed: () => false };
const event = { sender: contents, senderFrame: { url: 'app://miad/index.html' } } as unknown as IpcMainInvokeEvent;
const ipcSave = callHandler('annotate:saveMask', { host: { invoke: (n, i) => host.invoke(n, i), onEvent: () => () => undefined }, trusted: () => contents as never, isAppUrl: () => true, logError: () => undefined });

beforeAll(async () => {
  const opened = await openSmallWorkspace(await tmp());
  host = opened.host;
  sampleId = opened.id('wind_turbine/test/crack/000.png');
  server = await startLabServer({ host, staticDir: await tmp(), port: 0, token: 'mask-limit-token' });
});

afterAll(async () => {
  await server.close();
  await host.close();
});

/** A right-size, valid gray 0/255 mask carrying `pad` bytes of an ancillary chunk (which readers skip). */
function paddedMask(pad: number): string {
  const png = encodePng(new Uint8Array(W * H).fill(255), W, H, 1);
  return Buffer.concat([png.subarray(0, 33), pngChunk('prVt', Buffer.alloc(pad, 7)), png.subarray(33)]).toString('base64');
}

function httpSave(png: string) {
  return fetch(`http://127.0.0.1:${server.port}/api/call/annotate:saveMask`, { method: 'POST', headers: auth, body: JSON.stringify({ sampleId, png }) });
}

describe('mask payloads: one small limit behind both doors', () => {
  it('the limit is small, and the server body limit admits every mask the contract admits', () => {
    expect(MASK_PNG_BASE64_MAX).toBeLessThanOrEqual(8 << 20);
    expect(CALL_BODY_MAX_BYTES).toBeGreaterThan(MASK_PNG_BASE64_MAX + 1024);
  });

  it('a 1.5 MB mask (over the old 1 MiB body limit) saves through HTTP as through IPC', async () => {
    const png = paddedMask(1_500_000);
    expect(png.length).toBeLessThan(MASK_PNG_BASE64_MAX);
    const viaIpc = await ipcSave(event, { sampleId, png });
    expect(viaIpc).toMatchObject({ ok: true, result: { maskEdited: true } });
    const res = await httpSave(png);
    expect(res.status).toBe(200);
    const body = (await res.json()) as CallResponse<Annotation>;
    expect(body).toMatchObject({ ok: true, result: { maskEdited: true, version: 2 } });
  });

  it('one base64 quad over the limit is a ValidationError at both doors (400 over HTTP, not 413)', async () => {
    const png = 'A'.repeat(MASK_PNG_BASE64_MAX + 4);
    const viaIpc = await ipcSave(event, { sampleId, png });
    expect(viaIpc).toMatchObject({ ok: false, error: { name: 'ValidationError' } });
    const res = await httpSave(png);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ ok: false, error: { name: 'ValidationError' } });
  });
});
