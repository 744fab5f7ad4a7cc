/**
 * The tensor half of the `features` job (see features.ts), run inside the job process only.
 *
 * Images are decoded and resized by sharp (PNG or JPEG, grey or RGB) to inputSize², scaled to
 * [0, 1], ImageNet-normalised and run through the backbone in batches. Each requested layer's
 * output goes to `features/<layer>.npy`, float32 [N, h, w, c] in the order of the input list,
 * written in place at its row offset, so a resumed job continues the same files: it reopens them,
 * starts at the checkpoint's image index and overwrites whatever a killed process wrote past it.
 * A checkpoint is taken only after the files are fsynced, so its index never runs ahead of the data.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { z } from 'zod';
import { LabError } from '../../../../shared/errors';
import { buildBackbone, normalizeImageNet, randomWeights } from '../../engine/backbones/index';
import { loadSafetensors, type DecodedTensor } from '../../engine/safetensors';
import { writeFileAtomic } from '../../fs-util';
import type { JobContext } from '../kinds';
import { npyHeader } from '../../engine/npy';
import type { JobResult } from '../protocol';
import type { FeaturesConfig, FeaturesInput } from './features';

const inputSchema = z.object({ images: z.array(z.object({ relPath: z.string(), path: z.string() })).min(1) });

/** One image as float32 [size, size, 3] in [0, 1]. */
export async function loadImage(path: string, size: number): Promise<Float32Array> {
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    raw = await sharp(path, { failOn: 'error' }).removeAlpha().toColourspace('srgb').resize(size, size, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new LabError(`cannot read image ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (raw.info.channels !== 3) throw new LabError(`image ${path} decoded to ${raw.info.channels} channels, expected 3`);
  const out = new Float32Array(raw.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (raw.data[i] as number) / 255;
  return out;
}

async function loadWeights(config: FeaturesConfig): Promise<Map<string, DecodedTensor>> {
  if (config.weightsFile) return (await loadSafetensors(config.weightsFile)).tensors;
  const out = new Map<string, DecodedTensor>();
  for (const [name, t] of randomWeights(config.arch, config.seed)) out.set(name, { dtype: t.dtype ?? 'F32', shape: t.shape, data: t.data });
  return out;
}

interface LayerFile {
  layer: string;
  handle: FileHandle;
  headerBytes: number;
  /** Bytes of one image's feature map. */
  rowBytes: number;
  shape: number[];
}

export async function runFeatures(config: FeaturesConfig, rawInput: unknown, ctx: JobContext): Promise<JobResult> {
  const input: FeaturesInput = inputSchema.parse(rawInput);
  const n = input.images.length;
  const size = config.inputSize;
  const layers: string[] = config.layers;
  const resume = await ctx.resumeState();
  const startAt = resume ? (resume.state as { next: number }).next : 0;
  if (!Number.isInteger(startAt) || startAt < 0 || startAt > n) throw new LabError(`checkpoint of run ${ctx.runId} is unusable: next image ${String(startAt)} of ${n}`);

  ctx.progress({ phase: 'loading weights', step: 0, total: 1 });
  const model = buildBackbone(config.arch, await loadWeights(config));
  const outDir = join(ctx.runDir, 'features');
  await mkdir(outDir, { recursive: true });
  const files: LayerFile[] = [];
  try {
    // One pass on zeros gives each layer's output shape for this input size.
    const probe = tf.tidy(() => model.forward(tf.zeros([1, size, size, 3]) as tf.Tensor4D, layers));
    const shapes = Object.fromEntries(layers.map((l) => [l, (probe[l] as tf.Tensor4D).shape.slice(1)]));
    tf.dispose(Object.values(probe));
    for (const layer of layers) {
      const shape = [n, ...(shapes[layer] as number[])];
      const header = npyHeader(shape, 'float32');
      const path = join(outDir, `${layer}.npy`);
      const handle = await open(path, resume ? 'r+' : 'w');
      files.push({ layer, handle, headerBytes: header.length, rowBytes: (shape.slice(1).reduce((a, b) => a * b, 1)) * 4, shape });
      if (!resume) await handle.write(header, 0, header.length, 0);
    }

    const syncAll = async () => {
      for (const f of files) await f.handle.sync();
    };
    let batchesSinceCheckpoint = 0;
    let imagesThisProcess = 0;
    ctx.progress({ phase: 'extracting', step: startAt, total: n, images: 0 });
    for (let start = startAt; start < n; start += config.batchSize) {
      ctx.throwIfCancelled();
      const batch = input.images.slice(start, Math.min(n, start + config.batchSize));
      const pixels = new Float32Array(batch.length * size * size * 3);
      for (let i = 0; i < batch.length; i++) pixels.set(await loadImage((batch[i] as { path: string }).path, size), i * size * size * 3);
      const x = tf.tensor4d(pixels, [batch.length, size, size, 3]);
      let out: Record<string, tf.Tensor4D>;
      try {
        out = tf.tidy(() => model.forward(normalizeImageNet(x), layers));
      } finally {
        x.dispose();
      }
      try {
        for (const f of files) {
          const data = await (out[f.layer] as tf.Tensor4D).data<'float32'>();
          const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
          await f.handle.write(bytes, 0, bytes.length, f.headerBytes + start * f.rowBytes);
        }
        // A cheap, real curve: the mean activation of the deepest requested layer per batch.
        const deepest = files[files.length - 1] as LayerFile;
        const mean = tf.tidy(() => tf.mean(out[deepest.layer] as tf.Tensor4D).dataSync()[0] as number);
        ctx.series(`mean_${deepest.layer}`, Math.floor(start / config.batchSize), mean);
      } finally {
        tf.dispose(Object.values(out));
      }
      imagesThisProcess += batch.length;
      const done = start + batch.length;
      ctx.progress({ phase: 'extracting', step: done, total: n, images: imagesThisProcess });
      batchesSinceCheckpoint += 1;
      if (batchesSinceCheckpoint >= config.checkpointEvery && done < n) {
        await syncAll();
        await ctx.checkpoint({ step: Math.ceil(done / config.batchSize), state: { next: done } });
        batchesSinceCheckpoint = 0;
      }
    }
    await syncAll();
  } finally {
    for (const f of files) await f.handle.close().catch(() => undefined);
    model.dispose();
  }
  await writeFileAtomic(join(outDir, 'images.json'), JSON.stringify(input.images.map((i) => i.relPath)));
  return {
    outputs: [...layers.map((l) => `features/${l}.npy`), 'features/images.json'],
    summary: { images: n, inputSize: size, arch: config.arch, shapes: Object.fromEntries(files.map((f) => [f.layer, f.shape])), resumedAt: startAt },
  };
}
