/**
 * `miad-lab evaluate --workspace W --name N`: another tool's maps, evaluated and kept as an external
 * run beside our own, with metrics per defect type, curves and per-image scores.
 */
import { describe, expect, it } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { decodePng } from '../../src/main/core/image/png';
import { encodeNpy } from '../../src/main/core/evaluation/npy';
import { runCli } from '../../src/main/cli/main';
import { createLab } from '../../src/main/core/lab';
import { createLabHost } from '../../src/main/core/lab-host';
import type { RunDetail, RunInfo } from '../../src/shared/types';
import { useTmpDirs } from '../helpers/tmp';
import { capture } from '../helpers/cli';

const tmp = useTmpDirs();

describe('evaluate --workspace', () => {
  it('stores the evaluation as an external run that the lab lists with its metrics', async () => {
    const root = await tmp();
    const data = join(root, 'data');
    const report = await generateMiadMini({ outDir: data, scenarios: ['nut_and_bolt'], train: 1, test: 12, size: 64, seed: 3 });
    // A "tool" that sees the ground truth through noise: good but not perfect maps.
    const preds = join(root, 'preds');
    let k = 1;
    for (const f of report.scenarios[0]!.files.filter((f) => f.split === 'test')) {
      const map = new Float32Array(64 * 64);
      const mask = f.maskRelPath ? decodePng(await readFile(join(data, f.maskRelPath))).data : null;
      for (let i = 0; i < map.length; i++) {
        k = (k * 48271) % 2147483647;
        map[i] = (mask && mask[i]! > 0 ? 0.6 : 0) + (k / 2147483647) * 0.5;
      }
      const rel = f.relPath.replace(/^nut_and_bolt\//, '').replace(/\.png$/, '.npy');
      await mkdir(dirname(join(preds, rel)), { recursive: true });
      await writeFile(join(preds, rel), encodeNpy(map, [64, 64], 'float32'));
    }
    const ws = join(root, 'ws');
    (await createLab(ws, { create: true })).close();

    const args = ['evaluate', '--dataset', data, '--scenario', 'nut_and_bolt', '--predictions', preds, '--resolution', '64'];
    const c = capture();
    expect(await runCli([...args, '--workspace', ws, '--name', 'tool A', '--method', 'patchcore-anomalib'], c.io)).toBe(0);
    expect(c.out.join('\n')).toMatch(/Stored as external run #1 "tool A"/);

    const host = createLabHost({ door: 'cli', configDir: join(root, 'cfg'), defaultWorkspacesDir: root });
    await host.invoke('workspaces:open', { dir: ws });
    const runs = (await host.invoke('runs:list', {})) as RunInfo[];
    expect(runs).toEqual([expect.objectContaining({ id: 1, name: 'tool A', kind: 'external', method: 'patchcore-anomalib', scenarios: ['nut_and_bolt'], status: 'done', randomInit: false })]);
    const run = (await host.invoke('runs:get', { runId: 1 })) as RunDetail;
    const overall = run.metrics.filter((m) => m.defectType === '');
    expect(overall.map((m) => m.metric).sort()).toEqual(['aupro', 'image_auroc', 'image_f1_max', 'pixel_auroc', 'pixel_f1_max']);
    const pixelAuroc = overall.find((m) => m.metric === 'pixel_auroc')!.value!;
    expect(pixelAuroc).toBeGreaterThan(0.9);
    // One set of metrics per defect type of Table A.1 for the scenario.
    expect(new Set(run.metrics.map((m) => m.defectType))).toEqual(new Set(['', 'looseness', 'bolt_miss', 'nut_miss']));
    expect(run.config).toMatchObject({ resolution: 64, proLimit: 0.3, imageScores: 'map maximum' });
    await expect(host.invoke('runs:get', { runId: 2 })).rejects.toMatchObject({ name: 'NotFoundError' });
    await host.close();

    // Bad usage is refused before anything runs; a folder that is no workspace is a failure naming it.
    const noName = capture();
    expect(await runCli([...args, '--workspace', ws], noName.io)).toBe(2);
    expect(noName.err.join('')).toMatch(/--workspace needs --name/);
    const missing = capture();
    expect(await runCli([...args, '--workspace', join(root, 'nope'), '--name', 'x'], missing.io)).toBe(1);
    expect(missing.err.join('')).toMatch(/no MIAD Lab workspace at .*nope/);
  });
});
