/** Builders of small dataset trees for the importer's tests: real files, real PNG and JPEG bytes. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { encodePng } from '../../src/main/core/image/png';

/** A small RGB PNG whose pixels depend on `seed`, so different seeds give different bytes. */
export function png(seed: number, width = 16, height = 16): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13 + seed * 31) & 0xff;
  data[0] = seed & 0xff;
  data[1] = (seed >> 8) & 0xff;
  return encodePng(data, width, height, 3);
}

export function maskPng(width = 16, height = 16): Uint8Array {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i += 3) data[i] = 255;
  return encodePng(data, width, height, 1);
}

export async function jpeg(seed: number, width = 16, height = 16): Promise<Uint8Array> {
  return sharp({ create: { width, height, channels: 3, background: { r: seed & 0xff, g: (seed * 7) & 0xff, b: 90 } } }).jpeg({ quality: 80 }).toBuffer();
}

/** Writes `files` (path relative to `root` → bytes) and returns root. */
export async function writeTree(root: string, files: Record<string, Uint8Array | string>): Promise<string> {
  for (const [rel, bytes] of Object.entries(files)) {
    const path = join(root, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
  }
  return root;
}

/**
 * A minimal MIAD-style scenario: `train` good images, `good` test good, and per defect folder
 * `perDefect` images with masks. Seeds are offset by `seed` so scenarios do not share content.
 */
export function scenarioFiles(dir: string, defects: string[], options: { train?: number; good?: number; perDefect?: number; seed?: number; ext?: 'png' } = {}): Record<string, Uint8Array> {
  const { train = 3, good = 2, perDefect = 2, seed = 0 } = options;
  const files: Record<string, Uint8Array> = {};
  let n = seed;
  for (let i = 0; i < train; i++) files[`${dir}/train/good/${String(i).padStart(3, '0')}.png`] = png(n++);
  for (let i = 0; i < good; i++) files[`${dir}/test/good/${String(i).padStart(3, '0')}.png`] = png(n++);
  for (const d of defects) {
    for (let i = 0; i < perDefect; i++) {
      files[`${dir}/test/${d}/${String(i).padStart(3, '0')}.png`] = png(n++);
      files[`${dir}/ground_truth/${d}/${String(i).padStart(3, '0')}_mask.png`] = maskPng();
    }
  }
  return files;
}
