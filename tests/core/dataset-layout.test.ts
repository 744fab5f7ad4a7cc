/**
 * The one dataset layout (src/main/core/datasets/layout.ts): the importer, the method harness's
 * folder reader and `evaluate` pair images with masks by the same rule and see the same images.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageExtension, listTestImages, maskedStem, preferredMask, scenarioDir } from '../../src/main/core/datasets/layout';
import { walkDataset } from '../../src/main/core/datasets/import/walk';
import { buildPlan, filesToRead } from '../../src/main/core/datasets/import/plan';
import { defectFolders } from '../../src/main/core/datasets/import/mapping';
import { listTest } from '../../src/main/core/methods/harness/scenario-images';
import { encodePng } from '../../src/main/core/image/png';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();

/** A scenario whose masks use every naming the rule accepts, nested once as some MIAD copies are. */
async function dataset(): Promise<string> {
  const root = await tmp();
  const scen = join(root, 'metal_welding', 'metal_welding');
  const png = encodePng(new Uint8Array(16 * 16 * 3).fill(80), 16, 16, 3);
  const mask = encodePng(new Uint8Array(16 * 16).fill(255), 16, 16, 1);
  const files: Record<string, Uint8Array> = {
    'train/good/000.png': png,
    'test/good/000.png': png,
    'test/weld_pit/000.png': png, // ground_truth/weld_pit/000_mask.png
    'test/weld_pit/001.JPG': png, // ground_truth/weld_pit/001_mask.png beside 001.png: _mask wins
    'test/weld_pit/002.png': png, // only ground_truth/weld_pit/002.png
    'test/weld_pit/003.png': png, // no mask
    'test/weld_pit/notes.txt': new Uint8Array([1]),
    'ground_truth/weld_pit/000_mask.png': mask,
    'ground_truth/weld_pit/001_mask.png': mask,
    'ground_truth/weld_pit/001.png': mask,
    'ground_truth/weld_pit/002.png': mask,
  };
  for (const [rel, bytes] of Object.entries(files)) {
    mkdirSync(join(scen, rel, '..'), { recursive: true });
    writeFileSync(join(scen, rel), bytes);
  }
  return root;
}

describe('the dataset layout', () => {
  it('names images and masks by one rule', () => {
    expect(['a.png', 'b.JPEG', 'c.jpg', 'd.bmp', '.png', 'e.tiff'].map(imageExtension)).toEqual(['.png', '.jpeg', '.jpg', null, null, null]);
    expect([maskedStem('000_mask'), maskedStem('000')]).toEqual(['000', '000']);
    expect([preferredMask('000_mask', '000'), preferredMask('000', '000_mask'), preferredMask('000', undefined)]).toEqual([true, false, true]);
  });

  it('the importer, the harness and evaluate find the same scenario folder, test images and masks', async () => {
    const root = await dataset();
    const dir = scenarioDir(root, 'metal_welding');
    expect(dir).toBe(join(root, 'metal_welding', 'metal_welding'));
    const listed = listTestImages(dir).map((im) => [im.rel, im.mask === null ? null : im.mask.slice(dir.length + 1)]);
    expect(listed).toEqual([
      ['test/good/000.png', null],
      ['test/weld_pit/000.png', 'ground_truth/weld_pit/000_mask.png'],
      ['test/weld_pit/001.JPG', 'ground_truth/weld_pit/001_mask.png'],
      ['test/weld_pit/002.png', 'ground_truth/weld_pit/002.png'],
      ['test/weld_pit/003.png', null],
    ]);

    // The harness's folder reader: the same pairs, and an anomalous image without a mask is refused.
    await expect(listTest(dir, [])).rejects.toThrow(/no ground-truth mask for 1 test image\(s\): test\/weld_pit\/003\.png/);

    // The importer pairs the same way (its rows hold paths relative to the dataset root).
    const walk = await walkDataset(root);
    const folders = defectFolders(walk);
    const read = filesToRead(walk, folders);
    expect(read.masks.map((m) => m.split('/').pop()).sort()).toEqual(['000_mask.png', '001.png', '001_mask.png', '002.png']);
    const ok = (rel: string) => [rel, { ok: true, facts: { size: 1, mtimeMs: 1, hash: rel, format: 'png', width: 16, height: 16 } }] as const;
    const plan = buildPlan(walk, folders, new Map(read.images.map(ok)), new Map(read.masks.map(ok)));
    const pairs = plan.rows.filter((r) => r.split === 'test').map((r) => [r.relPath.split('/').slice(2).join('/'), r.maskRelPath === null ? null : r.maskRelPath.split('/').slice(2).join('/')]);
    expect(pairs).toEqual(listed.map(([rel, mask]) => [rel, mask]));
  });
});
