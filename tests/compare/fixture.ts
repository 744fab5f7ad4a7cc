/**
 * A small workspace with real runs to compare: a generated MIAD-mini scenario, imported; two
 * PatchCore job runs (fast preset, random weights, real maps.amap) made through the CLI; and one
 * external run from `miad-lab evaluate` on maps that see the ground truth through noise.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { decodePng } from '../../src/main/core/image/png';
import { encodeNpy } from '../../src/main/core/evaluation/npy';
import { runCli } from '../../src/main/cli/main';
import { createLab } from '../../src/main/core/lab';
import { listRuns } from '../../src/main/core/store/runs-repo';

export const SCENARIO = 'nut_and_bolt';
const quiet = { out: () => {}, err: () => {} };

export interface CompareFixture {
  root: string;
  ws: string;
  data: string;
  /** Job runs, oldest first. */
  jobRuns: number[];
  externalRun: number;
}

export async function makeCompareFixture(root: string): Promise<CompareFixture> {
  const data = join(root, 'data');
  const report = await generateMiadMini({ outDir: data, scenarios: [SCENARIO], train: 12, test: 12, size: 96, seed: 11 });
  const ws = join(root, 'ws');
  (await createLab(ws, { create: true })).close();
  expect(await runCli(['import', '--workspace', ws, data, '--name', 'mini'], quiet)).toBe(0);
  for (const name of ['pc-a', 'pc-b']) {
    expect(await runCli(['train', '--workspace', ws, '--method', 'patchcore', '--scenario', SCENARIO, '--preset', 'fast', '--backend', 'wasm', '--name', name], quiet)).toBe(0);
  }
  const preds = join(root, 'preds');
  let k = 7;
  for (const f of report.scenarios[0]!.files.filter((f) => f.split === 'test')) {
    const img = decodePng(await readFile(join(data, f.relPath)));
    const mask = f.maskRelPath ? decodePng(await readFile(join(data, f.maskRelPath))).data : null;
    const map = new Float32Array(img.width * img.height);
    for (let i = 0; i < map.length; i++) {
      k = (k * 48271) % 2147483647;
      map[i] = (mask && mask[i]! > 0 ? 0.6 : 0) + (k / 2147483647) * 0.5;
    }
    const rel = f.relPath.replace(new RegExp(`^${SCENARIO}/`), '').replace(/\.png$/, '.npy');
    await mkdir(dirname(join(preds, rel)), { recursive: true });
    await writeFile(join(preds, rel), encodeNpy(map, [img.height, img.width], 'float32'));
  }
  const args = ['evaluate', '--dataset', data, '--scenario', SCENARIO, '--predictions', preds, '--resolution', '64'];
  expect(await runCli([...args, '--workspace', ws, '--name', 'tool_X & co', '--method', 'other-tool'], quiet)).toBe(0);
  const lab = await createLab(ws);
  try {
    const runs = listRuns(lab.store).sort((a, b) => a.id - b.id);
    expect(runs.map((r) => r.status)).toEqual(['done', 'done', 'done']);
    return { root, ws, data, jobRuns: [runs[0]!.id, runs[1]!.id], externalRun: runs[2]!.id };
  } finally {
    lab.close();
  }
}
