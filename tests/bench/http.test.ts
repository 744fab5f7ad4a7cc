/**
 * The bench:* calls through the HTTP door: bad input (an unknown method, scenario or preset, an
 * override the method's schema refuses, an empty matrix, an unknown benchmark) answers with the
 * contract's clear message and status, and nothing is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { createLabHost } from '../../src/main/core/lab-host';
import { startLabServer, type LabServer } from '../../src/main/server/server';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { createLab } from '../../src/main/core/lab';
import { cli } from '../helpers/cli';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let server: LabServer;
let host: ReturnType<typeof createLabHost>;
let base: string;

beforeAll(async () => {
  const root = await tmp();
  await generateMiadMini({ outDir: join(root, 'data'), scenarios: ['nut_and_bolt'], train: 4, test: 4, size: 64, seed: 2 });
  const ws = join(root, 'ws');
  (await createLab(ws, { create: true })).close();
  expect((await cli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'])).code).toBe(0);
  const staticDir = join(root, 'ui');
  await mkdir(staticDir, { recursive: true });
  await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>ui</title>');
  host = createLabHost({ door: 'server', configDir: join(root, 'config'), defaultWorkspacesDir: join(root, 'workspaces') });
  await host.openWorkspace(ws);
  server = await startLabServer({ host, staticDir, port: 0, token: 'bench-token' });
  base = `http://127.0.0.1:${server.port}`;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await host?.close();
});

async function call(name: string, body: unknown): Promise<{ status: number; json: { ok: boolean; result?: unknown; error?: { name: string; message: string } } }> {
  const res = await fetch(`${base}/api/call/${name}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer bench-token' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as { ok: boolean; error?: { name: string; message: string } } };
}

const GOOD = { methods: ['patchcore', 'autoencoder'], scenarios: ['nut_and_bolt'], presets: ['fast'], weights: 'random' };

describe('bench:* over HTTP', () => {
  it('refuses bad input with a clear message and stores nothing', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ ...GOOD, methods: ['nosuch'] }, 400, /unknown method "nosuch"; methods: patchcore, autoencoder/],
      [{ ...GOOD, scenarios: ['moon_base'] }, 400, /unknown scenario "moon_base"/],
      [{ ...GOOD, presets: ['huge'] }, 400, /PatchCore has no preset "huge"; its presets: full, paper, fast/],
      [{ ...GOOD, overrides: { autoencoder: { epochs: 0 } } }, 400, /overrides: epochs: /],
      [{ ...GOOD, overrides: { autoencoder: { noSuchSetting: 1 } } }, 400, /noSuchSetting/],
      [{ ...GOOD, methods: [] }, 400, /invalid input for bench:create: methods: choose at least one method/],
      [{ ...GOOD, seeds: [] }, 400, /seeds: give at least one seed/],
      [{ ...GOOD, execution: 'cluster' }, 400, /execution/],
    ];
    for (const [body, status, message] of cases) {
      const r = await call('bench:create', body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.json.ok).toBe(false);
      expect(r.json.error!.message, JSON.stringify(body)).toMatch(message);
    }
    expect((await call('bench:list', {})).json.result).toEqual([]);
    const unknown = await call('bench:start', { benchmarkId: 42 });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toEqual({ name: 'NotFoundError', message: 'no benchmark with id 42 in this workspace' });
    expect((await call('bench:start', { benchmarkId: 'one' })).status).toBe(400);
  });

  it('creates and estimates a good matrix over HTTP', async () => {
    const created = await call('bench:create', GOOD);
    expect(created.status).toBe(200);
    const id = (created.json.result as { id: number }).id;
    const estimate = await call('bench:estimate', { benchmarkId: id, backend: 'cpu' });
    expect(estimate.status).toBe(200);
    expect(estimate.json.result).toMatchObject({ backend: 'cpu', blocked: 0, cells: [{ method: 'patchcore' }, { method: 'autoencoder' }] });
  });
});
