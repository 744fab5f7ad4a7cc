/**
 * `miad-lab bench create|start|status|cancel|list`: a tiny benchmark created, run to the end in the
 * CLI's process and reported; the paper matrix estimated with the cells that cannot run here;
 * cancel; and bad arguments refused with a clear message (exit 2), an unknown benchmark with exit 1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { createLab } from '../../src/main/core/lab';
import type { BenchmarkDetail } from '../../src/shared/calls/bench';
import { cli } from '../helpers/cli';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let ws: string;
const savedConfig = process.env.MIAD_LAB_CONFIG_DIR;

beforeAll(async () => {
  const root = await tmp();
  process.env.MIAD_LAB_CONFIG_DIR = join(root, 'config');
  // All seven scenarios, a few images each: the paper matrix must find them.
  await generateMiadMini({ outDir: join(root, 'data'), train: 4, test: 4, size: 64, seed: 9 });
  ws = join(root, 'ws');
  (await createLab(ws, { create: true })).close();
  expect((await cli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'])).code).toBe(0);
}, 120_000);

afterAll(() => {
  if (savedConfig === undefined) delete process.env.MIAD_LAB_CONFIG_DIR;
  else process.env.MIAD_LAB_CONFIG_DIR = savedConfig;
});

const TINY = ['--methods', 'patchcore', '--scenarios', 'nut_and_bolt', '--presets', 'fast', '--weights', 'random', '--backend', 'wasm', '--set', 'patchcore.inputSize=64', '--set', 'patchcore.batchSize=8'];

describe('miad-lab bench', () => {
  it('creates a tiny benchmark, runs it to the end in its process, reports status, and refuses to cancel a finished one', async () => {
    const created = await cli(['bench', 'create', '--workspace', ws, ...TINY, '--name', 'tiny']);
    expect(created.code, created.err).toBe(0);
    expect(created.out).toMatch(/Benchmark #1 "tiny": created, 1 cell \(1 pending\)/);
    expect(created.out).toMatch(/1 cell \(0 done, 0 cannot run here\) on wasm: about \d+/);
    expect(created.out).toMatch(/disk: about .* of anomaly maps/);
    expect(created.out).toContain(`miad-lab bench start --workspace ${ws} --benchmark 1`);

    const started = await cli(['bench', 'start', '--workspace', ws, '--benchmark', '1']);
    expect(started.code, started.err).toBe(0);
    expect(started.err).toMatch(/Cell #1 started as run #1: patchcore fast · nut_and_bolt/);
    expect(started.out).toMatch(/Benchmark #1 "tiny": done, 1 cell \(1 done\)/);
    expect(started.out).toMatch(/^patchcore\s+\d+\.\d\s+\d+\.\d$/m);

    const status = await cli(['bench', 'status', '--workspace', ws, '--benchmark', '1', '--json']);
    expect(status.code).toBe(0);
    const detail = (JSON.parse(status.out) as { result: { benchmark: BenchmarkDetail } }).result.benchmark;
    expect(detail.cells).toMatchObject([{ state: 'done', runId: 1, method: 'patchcore', scenarios: ['nut_and_bolt'] }]);

    const cancel = await cli(['bench', 'cancel', '--workspace', ws, '--benchmark', '1']);
    expect(cancel.code).toBe(1);
    expect(cancel.err).toMatch(/benchmark 1 is done: there is nothing to cancel/);
  }, 180_000);

  it('estimates the paper matrix with the cells that cannot run here, and cancels it before it starts', async () => {
    const paper = await cli(['bench', 'create', '--workspace', ws, '--paper']);
    expect(paper.code, paper.err).toBe(0);
    // Five methods × seven scenarios, and UniAD as one unified cell.
    expect(paper.out).toMatch(/"Reproduce the paper": created, 36 cells \(36 pending\)/);
    expect(paper.out).toMatch(/cannot run: patchcore paper · nut_and_bolt · seed \d+: no pretrained wide_resnet50_2 weights in this workspace: miad-lab weights fetch wide_resnet50_2\.tv_in1k/);
    expect(paper.out).toMatch(/cannot run: uniad paper · catenary_dropper, electrical_insulator, .*witness_mark · seed \d+: no pretrained/);
    expect(paper.out).not.toMatch(/cannot run: (autoencoder|draem)/);
    const id = /Benchmark #(\d+)/.exec(paper.out)![1]!;

    const cancel = await cli(['bench', 'cancel', '--workspace', ws, '--benchmark', id]);
    expect(cancel.code).toBe(0);
    expect(cancel.out).toMatch(new RegExp(`Benchmark #${id} "Reproduce the paper": cancelled, 36 cells \\(36 cancelled\\)`));
    const list = await cli(['bench', 'list', '--workspace', ws]);
    expect(list.out.split('\n')).toHaveLength(2);
  });

  it('refuses bad arguments with a clear message', async () => {
    const cases: [string[], number, RegExp][] = [
      [['bench', '--workspace', ws], 2, /missing argument SUBCOMMAND/],
      [['bench', 'frob', '--workspace', ws], 2, /unknown sub-command "frob"; use one of create, start, status, cancel, list/],
      [['bench', 'create', '--workspace', ws, '--scenarios', 'nut_and_bolt'], 2, /bench create needs --methods \(or --paper\)/],
      [['bench', 'create', '--workspace', ws, ...TINY, '--methods', 'nosuch'], 2, /unknown method "nosuch"; methods: patchcore/],
      [['bench', 'create', '--workspace', ws, ...TINY, '--scenarios', 'moon_base'], 2, /unknown scenario "moon_base"/],
      [['bench', 'create', '--workspace', ws, ...TINY, '--presets', 'huge'], 2, /PatchCore has no preset "huge"/],
      [['bench', 'create', '--workspace', ws, ...TINY, '--set', 'patchcore.coresetRatio=7'], 2, /PatchCore overrides: coresetRatio/],
      [['bench', 'create', '--workspace', ws, ...TINY, '--set', 'epochs=3'], 2, /--set expects method\.key=value/],
      [['bench', 'create', '--workspace', ws, ...TINY, '--seeds', '1,x'], 2, /--seeds expects comma-separated non-negative integers, got "x"/],
      [['bench', 'create', '--workspace', ws, '--paper', '--methods', 'patchcore'], 2, /--paper is the whole paper matrix/],
      [['bench', 'start', '--workspace', ws], 2, /bench start needs --benchmark ID/],
      [['bench', 'status', '--workspace', ws, '--benchmark', '1', '--methods', 'x'], 2, /--methods applies to bench create only/],
      [['bench', 'start', '--workspace', ws, '--benchmark', '99'], 1, /no benchmark with id 99 in this workspace/],
      [['bench', 'status', '--workspace', join(ws, 'nope'), '--benchmark', '1'], 2, /is not a MIAD Lab workspace/],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.err, args.join(' ')).toMatch(message);
    }
  });
});
