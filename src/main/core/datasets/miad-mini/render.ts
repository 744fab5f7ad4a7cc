/**
 * Renders one MIAD-mini sample in memory: the image, and for an anomalous sample its pixel mask.
 *
 * The mask is computed, not drawn: the scene is rendered twice from the same random decisions,
 * once normal and once with the defect, and the mask is every pixel whose 8-bit RGB differs. It
 * therefore covers exactly what the defect changed (for a missing part: where the part was).
 */
import { SCENARIO_INFO, type Scenario } from '../../../../shared/taxonomy';
import { develop, sampleCamera, sampleView, type Knobs } from './common';
import { hashSeed, Rng } from './prng';
import { Canvas } from './raster';
import { SCENES } from './scenes/index';

export interface SampleKey {
  /** Dataset seed. */
  seed: number;
  scenario: Scenario;
  /** The folder the sample goes to: `train/good`, `test/good` or `test/<defect>`. */
  folder: string;
  index: number;
}

export interface RenderedSample {
  size: number;
  /** 8-bit RGB, shape [size, size, 3]. */
  rgb: Uint8Array;
  /** 8-bit mask 0/255, shape [size, size]; null for a normal sample. */
  mask: Uint8Array | null;
}

/** The per-sample seed: depends only on (seed, scenario, folder, index). */
export function sampleSeed(key: SampleKey): number {
  return hashSeed(key.seed, `${key.scenario}/${key.folder}/${key.index}`);
}

function renderOnce(scenario: Scenario, seed: number, size: number, knobs: Knobs, defect: string | null, twin: boolean): { normal: Uint8Array; defective: Uint8Array | null } {
  const rng = new Rng(seed);
  const view = sampleView(rng, knobs.viewpoint);
  const camera = sampleCamera(rng);
  const draw = SCENES[scenario].build(rng, knobs, defect);
  const paint = (defective: boolean) => {
    const canvas = new Canvas(size, view);
    draw(canvas, defective);
    return develop(canvas, camera);
  };
  if (defect === null) return { normal: paint(false), defective: null };
  return { normal: twin ? paint(false) : new Uint8Array(0), defective: paint(true) };
}

/**
 * Renders the sample `key` at `size`×`size`. The defect is taken from the folder (`test/<defect>`);
 * `good` folders give normal samples.
 */
export function renderSample(key: SampleKey, size: number, knobs: Knobs): RenderedSample {
  const defect = defectOfFolder(key);
  const seed = sampleSeed(key);
  const { normal, defective } = renderOnce(key.scenario, seed, size, knobs, defect, true);
  if (defective === null) return { size, rgb: normal, mask: null };
  return { size, rgb: defective, mask: diffMask(normal, defective) };
}

/**
 * The normal twin of a sample: the same random decisions rendered without the defect (for a normal
 * sample, the sample itself). Tests use it to check that the mask is exactly the changed pixels.
 */
export function renderNormalTwin(key: SampleKey, size: number, knobs: Knobs): Uint8Array {
  return renderOnce(key.scenario, sampleSeed(key), size, knobs, defectOfFolder(key), true).normal;
}

function defectOfFolder(key: SampleKey): string | null {
  const [split, label] = key.folder.split('/');
  if (label === 'good' || label === undefined) return null;
  if (split !== 'test' || !SCENARIO_INFO[key.scenario].defects.includes(label)) {
    throw new Error(`${key.scenario} has no defect folder ${JSON.stringify(key.folder)}`);
  }
  return label;
}

/** 255 where any channel of two RGB images of shape [h, w, 3] differs, else 0: shape [h, w]. */
export function diffMask(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length || a.length % 3 !== 0) throw new Error('diffMask: images differ in size');
  const mask = new Uint8Array(a.length / 3);
  for (let p = 0, i = 0; p < mask.length; p++, i += 3) {
    if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) mask[p] = 255;
  }
  return mask;
}
