// DRAEM's anomaly synthesis against the official formulas (scripts/reference/draem.py: perlin.py's
// rand_perlin_2d_np with the same gradient angles, data_loader.py's blend with the same β, the noise
// rotated by skimage as imgaug's Affine does) and the texture augmenters against Pillow where Pillow
// defines the operation (sharpness, posterize, solarize, invert, autocontrast, equalize), imgaug's gamma
// LUT in numpy, and skimage's rotation. The parts with no reference here (imgaug's cv2 colour spaces:
// brightness, hue/saturation) are checked for what they must do. Then the properties of the whole
// sample: seeded, the mask where the texture is, the empty-mask half, the procedural textures.
//
// Figures (this machine): Perlin noise max |ours − numpy| ≤ 4.4e-16, masks identical, augmented images
// ≤ 6.0e-8 (one float32 rounding), augmenters bit-identical to Pillow / numpy, rotation ≤ 6.7e-16.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../../src/main/core/engine/random';
import {
  addHueSaturation,
  applyAugmentStep,
  AUGMENTERS,
  autocontrast,
  brightness,
  drawAugmentSteps,
  enhanceSharpness,
  equalize,
  gammaLut,
  posterizeLut,
  rotateBilinear,
  solarizeLut,
} from '../../src/main/core/methods/components/image-augment';
import { perlinAngles, perlinNoise } from '../../src/main/core/methods/components/perlin';
import { proceduralTexture, TEXTURE_FAMILIES } from '../../src/main/core/methods/components/textures';
import { resolveDraemConfig } from '../../src/main/core/methods/draem/config';
import { blendAnomaly, drawSynthesis, perlinMask, synthesize } from '../../src/main/core/methods/draem/synthesis';
import { maxDiff, readNpy, runDraemReference, writeNpy } from './helpers';

const SIZE = 64;
let dir = '';
const figures: string[] = [];

/** A structured 8-bit RGB image: gradients, a disc and noise, from a seed. */
function testImage(h: number, w: number, seed: number): Uint8Array {
  const rand = mulberry32(seed);
  const out = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const disc = (x - w / 2) ** 2 + (y - h / 3) ** 2 < (h / 4) ** 2 ? 90 : 0;
      for (let c = 0; c < 3; c++) out[(y * w + x) * 3 + c] = Math.min(255, Math.floor((x * 3 + y * (c + 1)) % 160) + disc + Math.floor(rand() * 20));
    }
  }
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'draem-synth-'));
});

afterAll(async () => {
  if (figures.length) console.info(`DRAEM synthesis against the official formulas:\n${figures.join('\n')}`);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Perlin mask and blend against perlin.py / data_loader.py with the same lattice and β', () => {
  const cases: [number, number, number, number][] = [
    // res0, res1, noise rotation (degrees), β
    [1, 1, 0, 0.3],
    [4, 8, 0, 0],
    [32, 2, 37.5, 0.79],
    [16, 16, -81, 0.5],
    [2, 32, 90, 0.1],
    [8, 4, 12.25, 0.65],
  ];
  const image = testImage(SIZE, SIZE, 1);
  const texture = proceduralTexture(SIZE, 17);

  /** The angles of each case, float32-exact: the .npy the reference reads is float32 and it widens them to float64. */
  const anglesOf = (res0: number, res1: number): Float64Array => perlinAngles(res0, res1, mulberry32(res0 * 100 + res1)).map(Math.fround);
  const outOf = (res0: number, res1: number, rotation: number): string => join(dir, `synth-${res0}-${res1}-${rotation}`);

  // One reference process for every case (Python with numpy and skimage starts in seconds).
  beforeAll(async () => {
    await writeNpy(join(dir, 'img.npy'), image, [SIZE, SIZE, 3]);
    await writeNpy(join(dir, 'tex.npy'), texture, [SIZE, SIZE, 3]);
    const list = [];
    for (const [res0, res1, rotation, beta] of cases) {
      const angles = join(dir, `angles-${res0}-${res1}.npy`);
      await writeNpy(angles, Float32Array.from(anglesOf(res0, res1)), [res0 + 1, res1 + 1]);
      list.push({ angles, res0, res1, rotation, beta, out: outOf(res0, res1, rotation) });
    }
    await writeFile(join(dir, 'cases.json'), JSON.stringify(list));
    await runDraemReference(['synth', '--image', join(dir, 'img.npy'), '--texture', join(dir, 'tex.npy'), '--cases', join(dir, 'cases.json'), '--threshold', '0.5', '--out', dir]);
  }, 120_000);

  for (const [res0, res1, rotation, beta] of cases) {
    it(`lattice ${res0}×${res1}, rotation ${rotation}°, β ${beta}: the same noise, mask and image to 1e-6`, async () => {
      const angles = anglesOf(res0, res1);
      const out = outOf(res0, res1, rotation);
      const noise = perlinNoise(SIZE, SIZE, res0, res1, angles);
      const refNoise = await readNpy(join(out, 'noise.npy'));
      const noiseErr = maxDiff(noise, refNoise.data);
      expect(noiseErr, 'noise').toBeLessThanOrEqual(1e-6);

      const draws = { res0, res1, angles, noiseRotation: rotation };
      const mask = perlinMask(SIZE, draws, 0.5);
      const refMask = await readNpy(join(out, 'mask.npy'));
      const rotated = rotateBilinear(noise, SIZE, SIZE, 1, rotation);
      // A pixel whose rotated noise sits within float rounding of the threshold may fall either way.
      let flips = 0;
      for (let i = 0; i < mask.length; i++) if (mask[i] !== refMask.data[i] && Math.abs(rotated[i]! - 0.5) > 1e-9) flips++;
      expect(flips, 'mask pixels on a different side of the threshold').toBe(0);
      const inside = mask.reduce((a, b) => a + b, 0);

      const imageF = Float32Array.from(image, (v) => v / 255);
      const refImage = await readNpy(join(out, 'image.npy'));
      expect(maxDiff(imageF, refImage.data), 'image / 255').toBe(0);
      const augmented = blendAnomaly(imageF, texture, Float64Array.from(refMask.data), beta);
      const refAug = await readNpy(join(out, 'augmented.npy'));
      const augErr = maxDiff(augmented, refAug.data);
      expect(augErr, 'augmented image').toBeLessThanOrEqual(1e-6);
      figures.push(`  lattice ${res0}×${res1} rot ${rotation}° β ${beta}: noise ${noiseErr.toExponential(1)}, mask identical (${inside} px inside), augmented ${augErr.toExponential(1)}`);
    });
  }

  it('an anomalous sample is the blend where the mask is 1 and the image elsewhere; a normal one is the image with an empty mask', () => {
    const settings = resolveDraemConfig('fast').config;
    let anomalous = 0;
    let nonEmpty = 0;
    for (let k = 0; k < 60; k++) {
      const draws = drawSynthesis(mulberry32(500 + k), settings, 10);
      const s = synthesize(image, texture, SIZE, { ...draws, augment: [] }, settings);
      if (!draws.anomalous) {
        expect(s.mask.every((v) => v === 0)).toBe(true);
        expect(maxDiff(s.augmented, s.image)).toBe(0);
        continue;
      }
      anomalous++;
      let changedOutside = 0;
      let m = 0;
      for (let p = 0; p < SIZE * SIZE; p++) {
        m += s.mask[p]!;
        for (let c = 0; c < 3; c++) {
          const i = p * 3 + c;
          if (s.mask[p] === 0 && s.augmented[i] !== s.image[i]) changedOutside++;
          if (s.mask[p] === 1) expect(Math.abs(s.augmented[i]! - ((1 - draws.beta) * (texture[i]! / 255) + draws.beta * s.image[i]!))).toBeLessThan(1e-6);
        }
      }
      expect(changedOutside).toBe(0);
      if (m > 0) nonEmpty++;
    }
    // anomalyProbability 0.5 over 60 seeded samples; most Perlin masks are not empty.
    expect(anomalous).toBeGreaterThan(15);
    expect(anomalous).toBeLessThan(45);
    expect(nonEmpty).toBeGreaterThan(anomalous / 2);
  });
});

describe('the texture augmenters against their definitions', () => {
  const H = 40;
  const W = 56;
  const img = testImage(H, W, 9);

  it('sharpness, posterize, solarize, invert, autocontrast, equalize: bit-identical to Pillow; gamma to imgaug’s LUT; rotation to skimage', async () => {
    const out = join(dir, 'augment');
    await writeNpy(join(dir, 'aug-img.npy'), img, [H, W, 3]);
    await runDraemReference(['augment', '--image', join(dir, 'aug-img.npy'), '--out', out]);
    const ref = async (name: string) => (await readNpy(join(out, `${name}.npy`))).data;
    const ours: [string, ArrayLike<number>][] = [
      ...[0, 0.37, 1, 1.63, 2].map((f) => [`sharpness.${f}`, enhanceSharpness(img, H, W, f)] as [string, Uint8Array]),
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((b) => [`posterize.${b}`, img.map((v) => posterizeLut(b)[v]!)] as [string, Uint8Array]),
      ...[32, 77, 128].map((t) => [`solarize.${t}`, img.map((v) => solarizeLut(t)[v]!)] as [string, Uint8Array]),
      ['invert.0', applyAugmentStep(img, H, W, { name: 'invert' })],
      ...[0, 3, 20].map((c) => [`autocontrast.${c}`, autocontrast(img, c)] as [string, Uint8Array]),
      ['equalize.0', equalize(img)],
      ...[0.5, 0.83, 1.7, 2].map((g) => [`gamma.${g}`, img.map((v) => gammaLut(g)[v]!)] as [string, Uint8Array]),
    ];
    for (const [name, values] of ours) expect(maxDiff(values, await ref(name)), name).toBe(0);
    let worst = 0;
    for (const deg of [0, 17.5, -44, 90]) {
      const r = rotateBilinear(Float64Array.from(img, (v) => v / 255), H, W, 3, deg);
      worst = Math.max(worst, maxDiff(r, await ref(`rotate.${deg}`)));
    }
    expect(worst, 'rotation').toBeLessThanOrEqual(1e-9);
    figures.push(`  augmenters: ${ours.length} Pillow / numpy outputs bit-identical; rotation max |ours − skimage| ${worst.toExponential(1)}`);
  });

  it('brightness and hue/saturation change what they must: identity at zero, brighter with mul > 1, hue turned, saturation raised', () => {
    const mean = (a: Uint8Array) => a.reduce((s, v) => s + v, 0) / a.length;
    for (const space of ['YCrCb', 'HSV', 'YUV'] as const) {
      // The colour-space round trip rounds to 8 bits twice: at most a couple of grey levels.
      expect(maxDiff(brightness(img, space, 1, 0, true), img), `${space} identity`).toBeLessThanOrEqual(3);
      expect(mean(brightness(img, space, 1.2, 20, true)), `${space} brighter`).toBeGreaterThan(mean(img) + 15);
      expect(mean(brightness(img, space, 0.8, -30, false)), `${space} darker`).toBeLessThan(mean(img) - 25);
    }
    expect(maxDiff(addHueSaturation(img, 0, 0), img), 'hue/saturation identity').toBeLessThanOrEqual(3);
    // A pure red pixel turned by +50 (trunc(50/255·180) = 35 OpenCV units = 70°): HSV (70°, 1, 1) is
    // RGB (255·5/6 = 212.5 → 212 in float, 255, 0); −50 turns it to 290°.
    expect([...addHueSaturation(Uint8Array.from([255, 0, 0]), 50, 0)]).toEqual([212, 255, 0]);
    expect([...addHueSaturation(Uint8Array.from([255, 0, 0]), -50, 0)]).toEqual([212, 0, 255]);
    const grey = Uint8Array.from([200, 150, 150]);
    const saturated = addHueSaturation(grey, 0, 50);
    expect(saturated[0]! - saturated[1]!).toBeGreaterThan(grey[0]! - grey[1]!);
  });

  it('draws three distinct augmenters of the official ten, with their parameters in the official ranges', () => {
    const seen = new Set<string>();
    for (let k = 0; k < 200; k++) {
      const steps = drawAugmentSteps(3, mulberry32(k));
      expect(new Set(steps.map((s) => s.name)).size).toBe(3);
      for (const s of steps) {
        seen.add(s.name);
        if (s.name === 'gamma') for (const g of s.gammas) expect(g >= 0.5 && g <= 2).toBe(true);
        if (s.name === 'brightness') expect(s.mul >= 0.8 && s.mul <= 1.2 && s.add >= -30 && s.add <= 30 && Number.isInteger(s.add)).toBe(true);
        if (s.name === 'hueSaturation') expect(Math.abs(s.hue) <= 50 && Math.abs(s.saturation) <= 50).toBe(true);
        if (s.name === 'solarize') expect(s.threshold >= 32 && s.threshold <= 128).toBe(true);
        if (s.name === 'posterize') expect(s.bits >= 1 && s.bits <= 8).toBe(true);
        if (s.name === 'autocontrast') expect(s.cutoff >= 0 && s.cutoff <= 20).toBe(true);
        if (s.name === 'rotate') expect(Math.abs(s.degrees) <= 45).toBe(true);
      }
      for (const s of steps) expect(applyAugmentStep(img, H, W, s)).toHaveLength(img.length);
    }
    expect([...seen].sort()).toEqual([...AUGMENTERS].sort());
  });
});

describe('procedural textures and seeded draws', () => {
  it('every family gives a varied colour texture; the same seed gives the same texture, another seed another', () => {
    for (const family of TEXTURE_FAMILIES) {
      const t = proceduralTexture(SIZE, 3, family);
      expect(t).toHaveLength(SIZE * SIZE * 3);
      const values = new Set(t);
      expect(values.size, `${family}: distinct values`).toBeGreaterThan(20);
      expect(proceduralTexture(SIZE, 3, family)).toEqual(t);
      expect(maxDiff(proceduralTexture(SIZE, 4, family), t), `${family}: another seed`).toBeGreaterThan(0);
    }
    // Odd sizes work too (the preview may ask for any): lattices adapt to the powers of two.
    expect(proceduralTexture(50, 1)).toHaveLength(50 * 50 * 3);
  });

  it('the draws of a sample are a pure function of its seed', () => {
    const settings = resolveDraemConfig('paper').config;
    const a = drawSynthesis(mulberry32(42), settings, 5640);
    const b = drawSynthesis(mulberry32(42), settings, 5640);
    expect(b).toEqual(a);
    expect(drawSynthesis(mulberry32(43), settings, 5640)).not.toEqual(a);
    // Lattices 2^0..2^5 (torch.randint(0, 6)), β < 0.8, rotations within the settings.
    for (let k = 0; k < 300; k++) {
      const d = drawSynthesis(mulberry32(k), settings, 5640);
      expect([1, 2, 4, 8, 16, 32]).toContain(d.res0);
      expect([1, 2, 4, 8, 16, 32]).toContain(d.res1);
      expect(d.beta).toBeLessThan(0.8);
      expect(Math.abs(d.noiseRotation)).toBeLessThanOrEqual(90);
      if (d.rotateImage !== null) expect(Math.abs(d.rotateImage)).toBeLessThanOrEqual(45);
      expect(d.textureIndex).toBeLessThan(5640);
    }
  });
});
