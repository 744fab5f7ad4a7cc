/**
 * The frozen-feature cache on the user's path: `miad-lab train` twice on the same scenario, each
 * run a job in its own process. The second run finds every image's features in the workspace
 * cache, records that in its result summary, and scores exactly as the first; `miad-lab cache
 * stats` sees the counts. A third run without --backend takes the app's stored backend setting.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { runCli } from '../../src/main/cli/main';
import { createLab } from '../../src/main/core/lab';
import { getRun } from '../../src/main/core/store/runs-repo';
import { AppSettings } from '../../src/main/core/workspace/app-settings';
import { useTmpDirs } from '../helpers/tmp';
import { capture } from '../helpers/cli';

const tmp = useTmpDirs();

interface Summary {
  featureCache: { train: { hits: number; misses: number }; test: { hits: number; misses: number } } | null;
}

describe('PatchCore jobs and the feature cache', () => {
  it('a repeated run hits for every image and scores the same; the backend setting applies without --backend', async () => {
    const root = await tmp();
    await generateMiadMini({ outDir: join(root, 'data'), scenarios: ['nut_and_bolt'], train: 6, test: 6, size: 64, seed: 3 });
    const ws = join(root, 'ws');
    (await createLab(ws, { create: true })).close();
    expect(await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], capture().io)).toBe(0);

    const train = async (extra: string[]) => {
      const c = capture();
      const code = await runCli(['train', '--workspace', ws, '--method', 'patchcore', '--scenario', 'nut_and_bolt', '--preset', 'fast', ...extra], c.io);
      expect(code, c.err.join('\n')).toBe(0);
    };
    const summary = async (id: number) => (JSON.parse(await readFile(join(ws, 'runs', String(id), 'result.json'), 'utf8')) as { summary: Summary }).summary;
    const scores = async (id: number) => JSON.parse(await readFile(join(ws, 'runs', String(id), 'scores.json'), 'utf8')) as Record<string, number>;

    await train(['--backend', 'wasm']);
    await train(['--backend', 'wasm']);
    const first = await summary(1);
    const second = await summary(2);
    const tests = Object.keys(await scores(1)).length;
    expect(first.featureCache).toEqual({ train: { hits: 0, misses: 6 }, test: { hits: 0, misses: tests }, writeFailures: 0, lastWriteError: null });
    expect(second.featureCache).toEqual({ train: { hits: 6, misses: 0 }, test: { hits: tests, misses: 0 }, writeFailures: 0, lastWriteError: null });
    expect(await scores(2)).toEqual(await scores(1));

    const stats = capture();
    expect(await runCli(['cache', 'stats', '--workspace', ws, '--json'], stats.io)).toBe(0);
    expect((JSON.parse(stats.out.join('')) as { result: unknown }).result).toMatchObject({ entries: 6 + tests, hits: 6 + tests, misses: 6 + tests });

    // No --backend: the stored setting (here cpu) decides; --backend would override it.
    const configDir = join(root, 'config');
    await new AppSettings(configDir).setBackend('cpu');
    const saved = process.env.MIAD_LAB_CONFIG_DIR;
    process.env.MIAD_LAB_CONFIG_DIR = configDir;
    try {
      await train([]);
    } finally {
      if (saved === undefined) delete process.env.MIAD_LAB_CONFIG_DIR;
      else process.env.MIAD_LAB_CONFIG_DIR = saved;
    }
    const lab = await createLab(ws);
    try {
      expect(getRun(lab.store, 1).backend).toBe('wasm');
      expect(getRun(lab.store, 3).backend).toBe('cpu');
    } finally {
      lab.close();
    }
    // Features cached on wasm serve the cpu run too: they agree far inside fp16 precision.
    expect((await summary(3)).featureCache).toMatchObject({ train: { hits: 6, misses: 0 }, test: { hits: tests, misses: 0 } });
  });
});
