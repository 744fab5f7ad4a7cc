/**
 * A grid of DRAEM training samples as the run would synthesise them (synthesis.ts with the run's
 * settings and texture source), written as PNGs for the launch form's "Preview training samples"
 * (call `runs:synthesisPreview`): for each sample the normal image (the reconstruction target),
 * the augmented texture, the network's input with the pasted anomaly, and the mask. Plain JS and
 * sharp, no tensors: it runs in the main process in a fraction of a second at 256 px.
 *
 * The samples are drawn with the same per-sample seeding as training (synthesis.ts `sampleSeed`): sample
 * k is what slot k of the first training step would get (a batch has fewer slots; later k continue
 * the sequence), made from images in a seeded order of the preview's own (the loop's epoch order
 * lives with tfjs code the main process does not load). Another `seed` shows other draws. A preview
 * is cached under the workspace (`previews/draem/<digest>/`), keyed by everything that shapes it.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mulberry32 } from '../../engine/random';
import { encodePng } from '../../image/png';
import type { SynthesisPreview, SynthesisPreviewSample } from '../../../../shared/calls/synthesis';
import { openTextureSource } from '../components/anomaly-source';
import { loadImageBytes } from '../components/images';
import type { DraemConfig } from './config';
import { drawSynthesis, sampleSeed, synthesize } from './synthesis';

/** The pixel (0–255) of a [0, 1] float. */
function to8(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v * 255)));
}

/**
 * Synthesises `count` samples and writes their PNGs.
 * @param trainPaths the scenario's training images (absolute), in the order the run lists them
 * @param workspaceDir where `previews/` goes
 */
export async function synthesisPreview(config: DraemConfig, trainPaths: readonly string[], count: number, workspaceDir: string): Promise<SynthesisPreview> {
  const size = config.inputSize;
  const key = createHash('sha256')
    .update(JSON.stringify([config, trainPaths.length, trainPaths.slice(0, 64), count]))
    .digest('hex')
    .slice(0, 16);
  const dir = join(workspaceDir, 'previews', 'draem', key);
  const indexFile = join(dir, 'preview.json');
  if (existsSync(indexFile)) {
    try {
      return JSON.parse(await readFile(indexFile, 'utf8')) as SynthesisPreview;
    } catch {
      // A damaged cache entry is made again.
    }
  }
  const textures = await openTextureSource({ dir: config.anomalySourceDir, size, seed: config.textureSeed, pool: config.proceduralTextures });
  // Images in a seeded order of their own, so a preview shows several different ones.
  const order = Array.from(trainPaths.keys());
  const rand = mulberry32(config.seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const samples: SynthesisPreviewSample[] = [];
  for (let k = 0; k < count; k++) {
    const source = trainPaths[order[k % order.length]!]!;
    const draws = drawSynthesis(mulberry32(sampleSeed(config.seed, 0, k)), config, textures.count);
    const [normal, texture] = await Promise.all([loadImageBytes(source, size), textures.texture(draws.textureIndex)]);
    const s = synthesize(normal, texture, size, draws, config);
    const name = (what: string) => join(dir, `${String(k).padStart(2, '0')}-${what}.png`);
    const files = { image: name('image'), texture: name('texture'), augmented: name('augmented'), mask: name('mask') };
    await writeFile(files.image, encodePng(Uint8Array.from(s.image, to8), size, size, 3));
    await writeFile(files.texture, encodePng(s.texture, size, size, 3));
    await writeFile(files.augmented, encodePng(Uint8Array.from(s.augmented, to8), size, size, 3));
    await writeFile(files.mask, encodePng(Uint8Array.from(s.mask, (v) => (v > 0 ? 255 : 0)), size, size, 1));
    samples.push({
      source,
      ...files,
      anomalous: draws.anomalous,
      maskFraction: s.mask.reduce((a, v) => a + v, 0) / s.mask.length,
      augmenters: draws.augment.map((a) => a.name),
      beta: draws.beta,
      lattice: [draws.res0, draws.res1],
      rotation: draws.rotateImage,
    });
  }
  const preview: SynthesisPreview = { size, seed: config.seed, anomalySource: textures.describe(), samples };
  await writeFile(indexFile, JSON.stringify(preview));
  return preview;
}
