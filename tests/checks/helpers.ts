/**
 * A MIAD-mini workspace with planted contamination (issue 19): defective test images copied into
 * train/good (`planted_*`), and one training image copied once (`twin.png`: the pair are twins), imported
 * into a real workspace, with a job host whose jobs run in real processes. The uncontrolled factors
 * (viewpoint, background, surface) are off: with a random backbone (no pretrained weights here) they
 * swamp the defects (measured AUROC 0.87 at the default 0.5 against 0.93 at 0 on nut_and_bolt).
 */
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../../src/main/cli/main';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { createLab } from '../../src/main/core/lab';
import type { Scenario } from '../../src/shared/taxonomy';
import { jobHost } from '../jobs/helpers';

export const SCENARIO: Scenario = 'nut_and_bolt';

/** The check's settings for tests: PatchCore's fast preset at 64 px, every patch in the bank (a seeded random ResNet18). */
export const TINY_CHECK = { preset: 'fast', overrides: { inputSize: 64, coresetRatio: 1, batchSize: 8 } };

export interface Planted {
  ws: string;
  dataDir: string;
  /** File names under train/good of the planted defective images and of the twins. */
  planted: string[];
  twins: [string, string];
}

export async function plantedWorkspace(root: string, options: { train?: number; planted?: number; seed?: number } = {}): Promise<Planted> {
  const dataDir = join(root, 'data');
  await generateMiadMini({ outDir: dataDir, scenarios: [SCENARIO], train: options.train ?? 24, test: 16, size: 64, seed: options.seed ?? 5, viewpoint: 0, background: 0, surface: 0 });
  const scenarioDir = join(dataDir, SCENARIO);
  const good = join(scenarioDir, 'train', 'good');
  const defects = (await readdir(join(scenarioDir, 'test'))).filter((d) => d !== 'good').sort();
  const anomalous: string[] = [];
  for (const d of defects) for (const f of (await readdir(join(scenarioDir, 'test', d))).sort()) anomalous.push(join(scenarioDir, 'test', d, f));
  // One defective image of each type in turn, so every defect type is among the planted ones.
  const picked: string[] = [];
  for (let i = 0; picked.length < (options.planted ?? 3) && i < anomalous.length; i++) {
    const byType = defects.map((d) => anomalous.filter((p) => p.includes(`${join('test', d)}/`)));
    const list = byType[i % byType.length]!;
    const next = list.find((p) => !picked.includes(p));
    if (next) picked.push(next);
  }
  const planted: string[] = [];
  for (const [i, src] of picked.entries()) {
    const name = `planted_${i}.png`;
    await copyFile(src, join(good, name));
    planted.push(name);
  }
  const firstGood = (await readdir(good)).filter((f) => !f.startsWith('planted_')).sort()[0]!;
  await copyFile(join(good, firstGood), join(good, 'twin.png'));
  const ws = join(root, 'ws');
  (await createLab(ws, { create: true })).close();
  const code = await runCli(['import', '--workspace', ws, dataDir, '--name', 'mini'], { out: () => undefined, err: () => undefined });
  if (code !== 0) throw new Error(`importing MIAD-mini into ${ws} exited with ${code}`);
  return { ws, dataDir, planted, twins: [firstGood, 'twin.png'] };
}

export async function plantedJobHost(root: string, options: Parameters<typeof plantedWorkspace>[1] = {}) {
  const p = await plantedWorkspace(root, options);
  return { ...p, t: await jobHost(p.ws, join(root, 'config')) };
}
