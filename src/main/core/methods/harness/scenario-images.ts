/**
 * Which images a run reads when no curated manifest is given (direct calls, tests, benches): the
 * scenario folder in the MIAD / MVTec AD layout (datasets/layout.ts: `<root>/<scenario>` or the nested
 * copy some MIAD downloads have), `train/good` for training and every `test/<label>` with its mask.
 * Also the seeded sample of training images presets ask for ('paper' PatchCore: 2,000; fast
 * presets: 64). Jobs read the workspace's curated manifest instead (manifest.ts).
 */
import { join } from 'node:path';
import { LabError } from '../../../../shared/errors';
import { listImageNames, listTestImages, scenarioDir } from '../../datasets/layout';
import { mulberry32 } from '../../engine/random';

/** A scenario's images as a workspace curates them (issue 4): labels and masks as edited there. */
export interface ScenarioManifest {
  /** Training images, absolute paths (already without those flagged out of training). */
  train: string[];
  /**
   * Test images: `rel` is the key in maps.amap and scores.json (relative to the scenario folder),
   * `label` is 'good' or the defect type, `mask` the absolute path of the mask to use (null: good).
   */
  test: TestItem[];
}

export interface TestItem {
  rel: string;
  path: string;
  label: string;
  mask: string | null;
}

/** The scenario's folder under a dataset root (the layout's rule, datasets/layout.ts). */
export { scenarioDir };

/** Absolute paths of `<dir>/train/good`, sorted. */
export async function listTrain(dir: string): Promise<string[]> {
  return listImageNames(join(dir, 'train', 'good')).map((n) => join(dir, 'train', 'good', n));
}

/** Every test image with its label (its folder) and mask (datasets/layout.ts); refuses anomalous images without a mask. */
export async function listTest(dir: string, warnings: string[]): Promise<TestItem[]> {
  const images = listTestImages(dir);
  const missing = images.filter((im) => im.label !== 'good' && im.mask === null).map((im) => im.rel);
  if (missing.length) throw new LabError(`no ground-truth mask for ${missing.length} test image(s): ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`, 'ValidationError');
  if (images.length === 0) warnings.push(`no test images under ${join(dir, 'test')}`);
  return images.map((im) => ({ rel: im.rel, path: join(dir, ...im.rel.split('/')), label: im.label, mask: im.mask }));
}

/** A seeded sample of `n` of `items`, kept in their original order. */
export function sample<T>(items: readonly T[], n: number, seed: number): T[] {
  if (n >= items.length) return [...items];
  const idx = Array.from({ length: items.length }, (_, i) => i);
  const rand = mulberry32(seed);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx
    .slice(0, n)
    .sort((a, b) => a - b)
    .map((i) => items[i]!);
}
