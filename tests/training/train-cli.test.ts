/**
 * `miad-lab train` with a trained method, as a new user runs it: the estimate first, then the
 * run with its loss; `--json` gives one document with the estimate and the stored run; `--dry-run`
 * starts nothing; `--resume` continues a cancelled run; bad arguments exit 2 naming the problem.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { runCli } from '../../src/main/cli/main';
import { createLab } from '../../src/main/core/lab';
import { listRuns } from '../../src/main/core/store/runs-repo';
import { useTmpDirs } from '../helpers/tmp';
import { capture } from '../helpers/cli';

const tmp = useTmpDirs();

const TINY = ['--set', 'inputSize=32', '--set', 'baseWidth=4', '--set', 'epochs=3', '--set', 'batchSize=4', '--set', 'trainImages=12'];

async function workspace(): Promise<string> {
  const root = await tmp();
  await generateMiadMini({ outDir: join(root, 'data'), scenarios: ['nut_and_bolt'], train: 12, test: 12, size: 64, seed: 3 });
  const ws = join(root, 'ws');
  (await createLab(ws, { create: true })).close();
  expect(await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], capture().io)).toBe(0);
  return ws;
}

describe('miad-lab train with a trained method', () => {
  it('prints the estimate, trains with its loss, and with --json returns the run and the estimate', async () => {
    const ws = await workspace();
    const base = ['train', '--workspace', ws, '--method', 'autoencoder', '--scenario', 'nut_and_bolt', '--preset', 'fast', '--backend', 'wasm', ...TINY];

    const dry = capture();
    expect(await runCli([...base, '--dry-run'], dry.io)).toBe(0);
    expect(dry.err.join('\n')).toMatch(/Estimated: about \d+ s of training on wasm: 0\.0\d+ GFLOP per image × 12 images × 3 epochs = .* TFLOP at 10 GFLOP\/s assumed/);

    const human = capture();
    expect(await runCli(base, human.io), human.err.join('\n')).toBe(0);
    expect(human.err.join('\n')).toMatch(/training +\d+ \/ 9 +loss [\d.]+/);
    expect(human.out.join('\n')).toMatch(/Run #1 done {2}\(backend wasm, weights none\)/);
    expect(existsSync(join(ws, 'runs', '1', 'model.safetensors'))).toBe(true);

    // The next estimate divides by the speed run #1 measured.
    const json = capture();
    expect(await runCli([...base, '--json'], json.io)).toBe(0);
    const doc = JSON.parse(json.out.join('\n')) as { ok: boolean; result: { id: number; status: string; method: string; weights: string | null; randomInit: boolean; metrics: unknown[]; estimate: { speedSource: string; measuredBy: { runId: number }; images: number; epochs: number } } };
    expect(doc.ok).toBe(true);
    expect(doc.result).toMatchObject({ id: 2, status: 'done', method: 'autoencoder', weights: null, randomInit: false });
    expect(doc.result.metrics.length).toBeGreaterThan(5);
    expect(doc.result.estimate).toMatchObject({ speedSource: 'measured', measuredBy: { runId: 1 }, images: 12, epochs: 3 });
    expect(json.err).toEqual([]);

    const lab = await createLab(ws);
    expect(listRuns(lab.store).map((r) => r.status)).toEqual(['done', 'done']);
    lab.close();
  }, 180_000);

  it('refuses bad arguments with exit 2, naming them, before any run exists', async () => {
    const ws = await workspace();
    const cases: [string[], RegExp][] = [
      [['--method', 'autoencoder', '--set', 'epochs=0'], /--set: Auto-Encoder overrides: epochs: Too small/],
      [['--method', 'autoencoder', '--set', 'epochs'], /--set expects key=value, got "epochs"/],
      [['--method', 'autoencoder', '--set', 'depth=3'], /Unrecognized key: "depth"/],
      [['--method', 'autoencoder', '--set', 'inputSize=100'], /inputSize: must be a multiple of 16/],
      [['--method', 'autoencoder', '--weights', '/tmp/w.safetensors'], /trains from scratch and reads no backbone weights: leave out --weights/],
      [['--method', 'autoencoder', '--preset', 'full'], /--preset for autoencoder is one of paper, fast/],
      [['--resume', '1', '--method', 'autoencoder'], /--resume continues a run as it was started: leave out --method$/],
      [['--resume', '7'], /no run with id 7 in this workspace/],
    ];
    for (const [args, message] of cases) {
      const c = capture();
      expect(await runCli(['train', '--workspace', ws, ...(args[0] === '--resume' ? [] : ['--scenario', 'nut_and_bolt']), ...args], c.io), args.join(' ')).toBe(2);
      expect(c.err.join('\n'), args.join(' ')).toMatch(message);
    }
    const lab = await createLab(ws);
    expect(listRuns(lab.store)).toEqual([]);
    lab.close();
  }, 60_000);
});
