// DRAEM's anomaly source on bad input (components/anomaly-source.ts): a DTD folder that does not exist,
// holds no images, or only unreadable ones is refused at once with a message naming it; unreadable
// files among readable ones are skipped and listed; grey images are taken as three equal channels (as
// cv2.imread does); a file whose header reads but whose data is truncated is replaced by the next one,
// deterministically, and listed. The procedural source is seeded.
import { describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { openTextureSource } from '../../src/main/core/methods/components/anomaly-source';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
const SIZE = 32;

async function rgbJpeg(seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(48 * 40 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * (7 + seed)) % 256;
  return sharp(raw, { raw: { width: 48, height: 40, channels: 3 } }).jpeg().toBuffer();
}

describe('a DTD folder as the anomaly source', () => {
  it('refuses a missing folder, a file, a folder without images and one whose images are all unreadable, naming it', async () => {
    const root = await tmp();
    const options = { size: SIZE, seed: 0, pool: 10 };
    await expect(openTextureSource({ ...options, dir: join(root, 'nope') })).rejects.toThrow(/anomaly source folder .*nope does not exist/);
    await writeFile(join(root, 'file.jpg'), await rgbJpeg(1));
    await expect(openTextureSource({ ...options, dir: join(root, 'file.jpg') })).rejects.toThrow(/is not a folder/);
    const empty = join(root, 'empty');
    await mkdir(join(empty, 'banded'), { recursive: true });
    await writeFile(join(empty, 'banded', 'readme.txt'), 'not an image');
    await expect(openTextureSource({ ...options, dir: empty })).rejects.toThrow(/holds no images \(\.jpg, \.png, … up to 3 levels down; DTD keeps them in images\/<class>\/\*\.jpg\); leave anomalySourceDir empty/);
    const broken = join(root, 'broken');
    await mkdir(join(broken, 'cracked'), { recursive: true });
    await writeFile(join(broken, 'cracked', 'a.jpg'), 'garbage, not a JPEG');
    await writeFile(join(broken, 'cracked', 'b.png'), Buffer.alloc(100, 7));
    await expect(openTextureSource({ ...options, dir: broken })).rejects.toThrow(/none of its 2 images can be read \(cracked\/a\.jpg \(unreadable: .*\); cracked\/b\.png/);
  });

  it('skips unreadable files, takes grey images as RGB, replaces a truncated one by the next, and records it all', async () => {
    const dir = join(await tmp(), 'dtd', 'images');
    await mkdir(join(dir, 'banded'), { recursive: true });
    await mkdir(join(dir, 'zigzagged'), { recursive: true });
    await writeFile(join(dir, 'banded', 'banded_0001.jpg'), await rgbJpeg(1));
    const jpeg = await rgbJpeg(2);
    await writeFile(join(dir, 'banded', 'banded_0002.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    await writeFile(join(dir, 'banded', 'banded_0003.jpg'), 'not a JPEG at all');
    await writeFile(join(dir, 'zigzagged', 'zigzagged_0001.png'), await sharp(Buffer.alloc(30 * 20, 90), { raw: { width: 30, height: 20, channels: 1 } }).toColourspace('b-w').png().toBuffer());
    // The user points at dtd/ (two levels above the images), as unpacked.
    const source = await openTextureSource({ dir: join(dir, '..'), size: SIZE, seed: 0, pool: 10 });
    expect(source.kind).toBe('folder');
    expect(source.count).toBe(3);
    let info = source.describe();
    expect(info).toMatchObject({ kind: 'folder', files: 4, usable: 3, grayscale: 1, skippedCount: 1 });
    if (info.kind !== 'folder') throw new Error('folder expected');
    expect(info.skipped[0]).toMatchObject({ file: join('images', 'banded', 'banded_0003.jpg') });
    expect(info.skipped[0]!.reason).toMatch(/^unreadable: /);

    const first = await source.texture(0);
    expect(first).toHaveLength(SIZE * SIZE * 3);
    // Index 1 is the truncated JPEG: its header reads, its data does not; the next texture stands in.
    const second = await source.texture(1);
    const grey = await source.texture(2);
    expect(second).toEqual(grey);
    for (let p = 0; p < SIZE * SIZE; p++) {
      expect(grey[p * 3]).toBe(grey[p * 3 + 1]);
      expect(grey[p * 3]).toBe(grey[p * 3 + 2]);
    }
    info = source.describe();
    expect(info).toMatchObject({ usable: 2, skippedCount: 2 });
    if (info.kind !== 'folder') throw new Error('folder expected');
    expect(info.skipped[1]).toMatchObject({ file: join('images', 'banded', 'banded_0002.jpg') });
    expect(info.skipped[1]!.reason).toMatch(/^fails to decode: .*premature end/i);
    // The same index keeps giving the same stand-in.
    expect(await source.texture(1)).toEqual(grey);
  });
});

describe('the procedural anomaly source', () => {
  it('is seeded, records its seed and pool, and gives textures of the asked size', async () => {
    const a = await openTextureSource({ dir: '', size: SIZE, seed: 7, pool: 50 });
    const b = await openTextureSource({ dir: '  ', size: SIZE, seed: 7, pool: 50 });
    const c = await openTextureSource({ dir: '', size: SIZE, seed: 8, pool: 50 });
    expect(a.describe()).toEqual({ kind: 'procedural', seed: 7, pool: 50, size: SIZE });
    expect(a.count).toBe(50);
    expect(await a.texture(3)).toHaveLength(SIZE * SIZE * 3);
    expect(await b.texture(3)).toEqual(await a.texture(3));
    expect(await c.texture(3)).not.toEqual(await a.texture(3));
    expect(await a.texture(4)).not.toEqual(await a.texture(3));
  });
});
