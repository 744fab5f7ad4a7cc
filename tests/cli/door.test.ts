/**
 * The CLI is a door like the others (issue 20): `train` goes through the host, so the contract's
 * input check and its one forced-backend rule apply to it as to the app, and a one-off command
 * leaves the runs of other processes alone (its host recovers no jobs).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { runCli } from '../../src/main/cli/main';
import { createLab } from '../../src/main/core/lab';
import { createLabHost } from '../../src/main/core/lab-host';
import { getRun, insertJobRun, listRuns, setRunStatus } from '../../src/main/core/store/runs-repo';
import { useTmpDirs } from '../helpers/tmp';
import { capture } from '../helpers/cli';

const tmp = useTmpDirs();

const TINY = ['--set', 'inputSize=32', '--set', 'baseWidth=4', '--set', 'epochs=1', '--set', 'batchSize=4', '--set', 'trainImages=4'];

let savedConfigDir: string | undefined;
beforeEach(() => {
  savedConfigDir = process.env.MIAD_LAB_CONFIG_DIR;
});
afterEach(() => {
  if (savedConfigDir === undefined) delete process.env.MIAD_LAB_CONFIG_DIR;
  else process.env.MIAD_LAB_CONFIG_DIR = savedConfigDir;
});

/** A workspace with a small nut_and_bolt dataset, and an app-settings folder of its own. */
async function workspace(): Promise<{ root: string; ws: string; config: string }> {
  const root = await tmp();
  const config = join(root, 'config');
  process.env.MIAD_LAB_CONFIG_DIR = config;
  await generateMiadMini({ outDir: join(root, 'data'), scenarios: ['nut_and_bolt'], train: 4, test: 4, size: 64, seed: 2 });
  const ws = join(root, 'ws');
  expect(await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], capture().io)).toBe(0);
  return { root, ws, config };
}

async function runs(ws: string) {
  const lab = await createLab(ws);
  try {
    return listRuns(lab.store);
  } finally {
    lab.close();
  }
}

describe('miad-lab train through the host', () => {
  it("refuses an input the contract refuses, with the contract's message, and starts nothing", async () => {
    const { ws } = await workspace();
    const c = capture();
    const code = await runCli(['train', '--workspace', ws, '--method', 'autoencoder', '--scenario', 'nut_and_bolt', '--backend', 'wasm', '--name', 'x'.repeat(201), ...TINY], c.io);
    expect(code, c.err.join('\n')).toBe(2);
    expect(c.err.join('\n')).toMatch(/invalid input for runs:start: name: .*200/);
    expect(await runs(ws)).toEqual([]);
  });

  it("applies the app's forced backend through runs:estimate and runs:start; --backend overrides it", async () => {
    const { root, ws, config } = await workspace();
    // The setting as the app stores it: engine:setBackend through a host of another door.
    const app = createLabHost({ door: 'server', configDir: config, defaultWorkspacesDir: root });
    await app.invoke('engine:setBackend', { backend: 'cpu' });
    await app.close();

    const base = ['train', '--workspace', ws, '--method', 'autoencoder', '--scenario', 'nut_and_bolt', ...TINY];
    const dry = capture();
    expect(await runCli([...base, '--dry-run', '--json'], dry.io), dry.out.join('\n')).toBe(0);
    expect((JSON.parse(dry.out.join('\n')) as { result: { estimate: { backend: string } } }).result.estimate.backend).toBe('cpu');
    const asked = capture();
    expect(await runCli([...base, '--backend', 'wasm', '--dry-run', '--json'], asked.io)).toBe(0);
    expect((JSON.parse(asked.out.join('\n')) as { result: { estimate: { backend: string } } }).result.estimate.backend).toBe('wasm');

    const run = capture();
    expect(await runCli(base, run.io), run.err.join('\n')).toBe(0);
    expect(run.out.join('\n')).toMatch(/Run #1 done {2}\(backend cpu, weights none\)/);
    const lab = await createLab(ws);
    try {
      expect(getRun(lab.store, 1)).toMatchObject({ status: 'done', backend: 'cpu' });
    } finally {
      lab.close();
    }
  }, 120_000);

  it('leaves a run of another (dead) process as it is, where a host that recovers would settle it', async () => {
    const { root, ws } = await workspace();
    const seed = await createLab(ws);
    // pid beyond Linux's pid_max: no such process.
    const DEAD = 99_999_999;
    const id = insertJobRun(seed.store, { name: 'theirs', jobKind: 'autoencoder', method: 'autoencoder', scenarios: ['nut_and_bolt'], datasetId: 1, datasetRoot: join(root, 'data'), config: {}, weights: null, randomInit: false, requestedBackend: null, ownerPid: DEAD });
    setRunStatus(seed.store, id, 'running', null, DEAD);
    seed.close();

    const c = capture();
    expect(await runCli(['train', '--workspace', ws, '--method', 'autoencoder', '--scenario', 'nut_and_bolt', '--backend', 'wasm', '--dry-run', ...TINY], c.io), c.err.join('\n')).toBe(0);
    expect(await runCli(['cache', 'stats', '--workspace', ws], capture().io)).toBe(0);
    expect((await runs(ws)).find((r) => r.id === id)?.status).toBe('running');

    // The app's host (the desktop app, the server) does recover it: what the CLI must not do.
    const app = createLabHost({ door: 'server', configDir: join(root, 'config'), defaultWorkspacesDir: root });
    await app.invoke('workspaces:open', { dir: ws });
    await app.close();
    expect((await runs(ws)).find((r) => r.id === id)?.status).not.toBe('running');
  });
});
