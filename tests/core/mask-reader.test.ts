/**
 * The one mask reader (src/main/core/image/mask.ts): every kind of mask a tool writes reads by the
 * same rule (> 0 is anomalous), and `evaluate` gives the same metrics whichever kind a dataset has.
 * The files are written by Pillow (Debian's python3-pil), as other tools write them.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PYTHON } from '../../scripts/parity/reference';
import { evaluatePredictions } from '../../src/main/core/evaluation/evaluate-predictions';
import { encodeNpy } from '../../src/main/core/engine/npy';
import { readBinaryMask } from '../../src/main/core/image/mask';
import { decodePng, encodePng } from '../../src/main/core/image/png';
import { binariseMask } from '../../src/shared/mask-rule';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();

/** Writes `<dir>/<kind>.png` for each kind: a 4×4 mask whose pixels (1,1) and (2,2) are anomalous in the kind's own way, everything else 0. */
function writeKinds(dir: string): void {
  execFileSync(PYTHON, [
    '-c',
    `
import sys, numpy as np
from PIL import Image
d = sys.argv[1]
g16 = np.zeros((4, 4), np.uint16); g16[1, 1] = 1; g16[2, 2] = 300
Image.fromarray(g16).save(d + '/grey16.png')
p = Image.new('P', (4, 4), 0); p.putpalette([0, 0, 0, 255, 255, 255, 0, 0, 1]); p.putpixel((1, 1), 1); p.putpixel((2, 2), 2); p.save(d + '/palette.png')
la = Image.new('LA', (4, 4), (0, 255)); la.putpixel((1, 1), (200, 255)); la.putpixel((2, 2), (1, 0)); la.putpixel((3, 3), (0, 0)); la.save(d + '/grey_alpha.png')
rgba = Image.new('RGBA', (4, 4), (0, 0, 0, 255)); rgba.putpixel((1, 1), (0, 0, 1, 255)); rgba.putpixel((2, 2), (7, 0, 0, 0)); rgba.putpixel((3, 3), (0, 0, 0, 0)); rgba.save(d + '/rgba.png')
g8 = np.zeros((4, 4), np.uint8); g8[1, 1] = 255; g8[2, 2] = 1
Image.fromarray(g8).save(d + '/grey8.png')
`,
    dir,
  ]);
}

const EXPECTED = (() => {
  const m = new Uint8Array(16);
  m[1 * 4 + 1] = 1;
  m[2 * 4 + 2] = 1;
  return m;
})();

describe('readBinaryMask', () => {
  it('reads 16-bit grey, palette, grey+alpha, RGBA and 8-bit grey masks by one rule: > 0 is anomalous, alpha is not ground truth', async () => {
    const dir = await tmp();
    writeKinds(dir);
    for (const kind of ['grey16', 'palette', 'grey_alpha', 'rgba', 'grey8']) {
      const mask = await readBinaryMask(join(dir, `${kind}.png`));
      expect([mask.width, mask.height], kind).toEqual([4, 4]);
      expect(Array.from(mask.data), kind).toEqual(Array.from(EXPECTED));
    }
  });

  it('the rule the annotation calls and the editor apply to decoded pixels (shared/mask-rule.ts) gives the same masks', async () => {
    const dir = await tmp();
    writeKinds(dir);
    for (const kind of ['grey_alpha', 'rgba', 'grey8']) {
      const raster = decodePng(readFileSync(join(dir, `${kind}.png`)));
      expect(Array.from(binariseMask(raster.data, raster.width * raster.height, raster.channels)), kind).toEqual(Array.from((await readBinaryMask(join(dir, `${kind}.png`))).data));
    }
  });

  it('names the mask and the reason when it cannot be read', async () => {
    const dir = await tmp();
    writeFileSync(join(dir, 'broken.png'), encodePng(new Uint8Array(16), 4, 4, 1).subarray(0, 40));
    await expect(readBinaryMask(join(dir, 'broken.png'))).rejects.toThrow(/cannot read mask .*broken\.png: /);
    await expect(readBinaryMask(new Uint8Array([1, 2, 3]), 'ground_truth/pit/000_mask.png')).rejects.toThrow(/cannot read mask ground_truth\/pit\/000_mask\.png/);
  });

  it('evaluate gives the same metrics whichever kind of mask the dataset has', async () => {
    const kinds = await tmp();
    writeKinds(kinds);
    const results: string[] = [];
    for (const kind of ['grey8', 'grey16', 'palette', 'grey_alpha', 'rgba']) {
      const root = await tmp();
      const preds = await tmp();
      const scen = join(root, 'metal_welding');
      for (const label of ['good', 'pit']) {
        mkdirSync(join(scen, 'test', label), { recursive: true });
        mkdirSync(join(preds, 'test', label), { recursive: true });
      }
      mkdirSync(join(scen, 'ground_truth', 'pit'), { recursive: true });
      for (let k = 0; k < 3; k++) {
        for (const label of ['good', 'pit']) {
          writeFileSync(join(scen, 'test', label, `00${k}.png`), encodePng(new Uint8Array(48).fill(90), 4, 4, 3));
          const map = new Float32Array(16).map((_, i) => (label === 'pit' && EXPECTED[i] ? 0.9 : 0.1) + 0.01 * ((i * (k + 3)) % 7));
          writeFileSync(join(preds, 'test', label, `00${k}.npy`), encodeNpy(map, [4, 4]));
        }
        copyFileSync(join(kinds, `${kind}.png`), join(scen, 'ground_truth', 'pit', `00${k}_mask.png`));
      }
      expect(readdirSync(join(scen, 'ground_truth', 'pit'))).toHaveLength(3);
      const result = await evaluatePredictions({ datasetRoot: root, scenario: 'metal_welding', predictionsDir: preds, resolution: 4 });
      results.push(JSON.stringify(result.overall.metrics));
    }
    expect(new Set(results).size).toBe(1);
    expect(JSON.parse(results[0]!)).toMatchObject({ pixelAuroc: 1 });
  });
});
