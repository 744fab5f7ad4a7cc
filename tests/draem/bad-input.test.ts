// DRAEM refuses bad input with messages that say what is wrong and what to do, before anything
// trains: model weights written by another method, or of other widths, or missing; 0 epochs without
// weights; a training checkpoint of another method at resume; an anomaly-source (DTD) folder without
// images or with only unreadable ones, through a run. A folder of grey images is taken (as cv2.imread
// does) and the run records it. Nothing here trains more than one step of tiny networks at 32 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { initBackend } from '../../src/main/core/engine/backends';
import { writeSafetensors } from '../../src/main/core/engine/safetensors';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { resumingFromCheckpointOf } from '../jobs/helpers';
import { resolveAutoencoderConfig } from '../../src/main/core/methods/autoencoder/config';
import { buildAutoencoder } from '../../src/main/core/methods/autoencoder/model';
import { resolveDraemConfig } from '../../src/main/core/methods/draem/config';
import { SYNTHESIS_RECORD } from '../../src/main/core/methods/draem/fit';
import { draemMethod } from '../../src/main/core/methods/draem/method';
import { buildDraem } from '../../src/main/core/methods/draem/model';
import { runMethod } from '../../src/main/core/methods/harness/run-method';

let dir = '';
let data = '';
const quiet = { progress: () => undefined };
/** One step of widths 4 / 4 at 32 px: what these tests need to reach the point they test. */
const TINY = { inputSize: 32, trainImages: 4, batchSize: 4, epochs: 1, reconstructiveWidth: 4, discriminativeWidth: 4 };

beforeAll(async () => {
  await initBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'draem-bad-'));
  data = join(dir, 'data');
  await generateMiadMini({ outDir: data, scenarios: ['nut_and_bolt'], train: 4, test: 4, size: 64, seed: 2 });
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const outDir = (): string => join(dir, `out-${Math.random().toString(36).slice(2)}`);
const run = (overrides: Record<string, unknown>) => runMethod(draemMethod, { datasetRoot: data, scenario: 'nut_and_bolt', preset: 'fast', overrides, weights: 'random', outDir: outDir() }, quiet);

describe('DRAEM bad input', () => {
  it('refuses model weights written by another method, naming it, and a file that is not there', async () => {
    const ae = buildAutoencoder(resolveAutoencoderConfig('fast', { baseWidth: 4, latentChannels: 0 }).config);
    const path = join(dir, 'ae.safetensors');
    await writeSafetensors(path, ae.stateDict(), { method: 'autoencoder', preset: 'fast' });
    ae.dispose();
    await expect(run({ ...TINY, modelWeights: path })).rejects.toThrow(
      /modelWeights .*ae\.safetensors is not a DRAEM checkpoint: it has no encoder_segment\.\*, decoder_segment\.\* tensors .*; it was written by method autoencoder/,
    );
    await expect(run({ ...TINY, modelWeights: join(dir, 'missing.safetensors') })).rejects.toThrow(/modelWeights: cannot read .*missing\.safetensors/);
  });

  it('refuses DRAEM weights of other widths, saying which they are and what to set', async () => {
    const model = buildDraem(resolveDraemConfig('fast', { reconstructiveWidth: 8, discriminativeWidth: 4 }).config);
    const path = join(dir, 'draem-8-4.safetensors');
    await writeSafetensors(path, model.stateDict(), { method: 'draem', preset: 'fast' });
    model.dispose();
    await expect(run({ ...TINY, modelWeights: path })).rejects.toThrow(
      /modelWeights .* holds widths 8 \(reconstructive\) and 4 \(discriminative\) \(saved by a fast run\), but this run \(preset fast\) builds 4 and 4: set reconstructiveWidth=8$/,
    );
  });

  it('refuses 0 epochs without weights to evaluate, and a relative weights path or texture folder', () => {
    expect(() => resolveDraemConfig('fast', { epochs: 0 })).toThrow(/epochs: 0 epochs only evaluates given weights: set modelWeights too/);
    expect(() => resolveDraemConfig('fast', { modelWeights: 'model.safetensors' })).toThrow(/modelWeights: must be an absolute path/);
    expect(() => resolveDraemConfig('fast', { anomalySourceDir: 'dtd/images' })).toThrow(/anomalySourceDir: must be an absolute path to a folder of texture images/);
  });

  it('refuses to resume from a training checkpoint of another method', async () => {
    const runDir = outDir();
    const job = resumingFromCheckpointOf('autoencoder', dir, runDir);
    await expect(
      runMethod(draemMethod, { datasetRoot: data, scenario: 'nut_and_bolt', preset: 'fast', overrides: TINY, weights: 'random', outDir: runDir }, { ...quiet, job }),
    ).rejects.toThrow(/cannot resume: its checkpoint was written by method "autoencoder", this run trains draem/);
  });

  it('fails a run whose DTD folder holds no images, or only unreadable ones, naming the folder', async () => {
    const empty = join(dir, 'dtd-empty');
    await mkdir(join(empty, 'images', 'banded'), { recursive: true });
    await writeFile(join(empty, 'images', 'banded', 'notes.txt'), 'no images here');
    await expect(run({ ...TINY, anomalySourceDir: empty })).rejects.toThrow(/anomaly source folder .*dtd-empty holds no images .*leave anomalySourceDir empty/);
    const broken = join(dir, 'dtd-broken');
    await mkdir(join(broken, 'images', 'cracked'), { recursive: true });
    await writeFile(join(broken, 'images', 'cracked', 'a.jpg'), 'not a JPEG');
    await expect(run({ ...TINY, anomalySourceDir: broken })).rejects.toThrow(/none of its 1 images can be read \(images\/cracked\/a\.jpg \(unreadable: /);
    await expect(run({ ...TINY, anomalySourceDir: join(dir, 'no-such-dtd') })).rejects.toThrow(/anomaly source folder .*no-such-dtd does not exist/);
  });

  it('trains on a folder of grey images as RGB and records the source with the run', async () => {
    const grey = join(dir, 'dtd-grey');
    await mkdir(join(grey, 'images', 'dotted'), { recursive: true });
    for (let i = 0; i < 3; i++) {
      const raw = Buffer.alloc(40 * 40, 0);
      for (let p = 0; p < raw.length; p++) raw[p] = (p * (3 + i)) % 256;
      await writeFile(join(grey, 'images', 'dotted', `dotted_000${i}.jpg`), await sharp(raw, { raw: { width: 40, height: 40, channels: 1 } }).toColourspace('b-w').jpeg().toBuffer());
    }
    const result = await run({ ...TINY, anomalySourceDir: grey, anomalyProbability: 1 });
    expect(result.train).toMatchObject({ steps: 1 });
    const record = JSON.parse(await readFile(join(result.paths.maps, '..', SYNTHESIS_RECORD), 'utf8')) as { anomalySource: Record<string, unknown>; synthesis: { samples: number } };
    expect(record.anomalySource).toMatchObject({ kind: 'folder', dir: grey, files: 3, usable: 3, grayscale: 3, skippedCount: 0 });
    expect(record.synthesis.samples).toBe(4);
  });
});
