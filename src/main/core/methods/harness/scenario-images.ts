/**
 * Which images a run reads when no curated manifest is given (direct calls, tests, benches): the
 * scenario folder in the MIAD / MVTec AD layout (`<root>/<scenario>` or the nested copy some MIAD
 * downloads have), `train/good` for training and every `test/<label>` with its ground-truth mask.
 * Also the seeded sample of training images presets ask for ('paper' PatchCore: 2,000; fast
 * presets: 64). Jobs read the workspace's curated manifest instead (manifest.ts).
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { LabError } from '../../../../shared/errors';
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

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff']);

async function listImages(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => null);
  if (!names) return [];
  return names.filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase())).sort();
}

/** `<root>/<scenario>`, or the nested `<root>/<scenario>/<scenario>` some copies of MIAD have. */
export function scenarioDir(root: string, scenario: string): string {
  const direct = join(root, scenario);
  if (existsSync(join(direct, 'train')) || existsSync(join(direct, 'test'))) return direct;
  const nested = join(direct, scenario);
  if (existsSync(join(nested, 'train')) || existsSync(join(nested, 'test'))) return nested;
  throw new LabError(`no scenario folder ${scenario} (with train/ or test/) under ${root}`, 'ValidationError');
}

/** Absolute paths of `<dir>/train/good`, sorted. */
export async function listTrain(dir: string): Promise<string[]> {
  return (await listImages(join(dir, 'train', 'good'))).map((n) => join(dir, 'train', 'good', n));
}

/** Every test image with its label (its folder) and mask; refuses anomalous images without a mask. */
export async function listTest(dir: string, warnings: string[]): Promise<TestItem[]> {
  const labels = ((await readdir(join(dir, 'test'), { withFileTypes: true }).catch(() => [])) as { name: string; isDirectory(): boolean }[])
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const out: TestItem[] = [];
  const missing: string[] = [];
  for (const label of labels) {
    for (const name of await listImages(join(dir, 'test', label))) {
      const stem = name.slice(0, name.length - extname(name).length);
      let mask: string | null = null;
      if (label !== 'good') {
        const candidates = [`${stem}_mask.png`, `${stem}_mask${extname(name)}`, `${stem}.png`].map((m) => join(dir, 'ground_truth', label, m));
        mask = candidates.find((c) => existsSync(c)) ?? null;
        if (!mask) missing.push(`test/${label}/${name}`);
      }
      out.push({ rel: `test/${label}/${name}`, path: join(dir, 'test', label, name), label, mask });
    }
  }
  if (missing.length) throw new LabError(`no ground-truth mask for ${missing.length} test image(s): ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`, 'ValidationError');
  if (out.length === 0) warnings.push(`no test images under ${join(dir, 'test')}`);
  return out;
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
