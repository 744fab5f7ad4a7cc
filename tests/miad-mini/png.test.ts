import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { crc32, decodePng, encodePng, PngError } from '../../src/main/core/image/png';
import { ImageSizeError, readImageSize, readImageSizeFromBuffer } from '../../src/main/core/image/image-size';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();

function pattern(w: number, h: number, c: number): Uint8Array {
  const out = new Uint8Array(w * h * c);
  for (let i = 0; i < out.length; i++) out[i] = (i * 37 + ((i / 7) | 0) * 11) & 0xff;
  return out;
}

/** Builds a PNG by hand (for colour types our encoder does not write). */
function handPng(w: number, h: number, colourType: number, bitDepth: number, channels: number, pixels: Uint8Array, interlace = 0): Buffer {
  const chunk = (type: string, data: Uint8Array) => {
    const b = Buffer.alloc(12 + data.length);
    b.writeUInt32BE(data.length, 0);
    b.write(type, 4, 'latin1');
    b.set(data, 8);
    b.writeUInt32BE(crc32(b.subarray(4, 8 + data.length)), 8 + data.length);
    return b;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colourType;
  ihdr[12] = interlace;
  const stride = w * channels;
  const raw = Buffer.alloc((stride + 1) * h);
  for (let y = 0; y < h; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

describe('PNG codec', () => {
  it('round-trips RGB and gray through every filter choice', () => {
    for (const [w, h] of [[1, 1], [7, 5], [64, 33]] as const) {
      for (const channels of [1, 3] as const) {
        const px = pattern(w, h, channels);
        for (const filter of ['adaptive', 0, 1, 2, 3, 4] as const) {
          const png = encodePng(px, w, h, channels, { filter });
          const img = decodePng(png);
          expect([img.width, img.height, img.channels]).toEqual([w, h, channels]);
          expect(Buffer.from(img.data).equals(Buffer.from(px))).toBe(true);
        }
      }
    }
  });

  it('encodes identical pixels to identical bytes', () => {
    const px = pattern(40, 30, 3);
    expect(encodePng(px, 40, 30, 3).equals(encodePng(Uint8Array.from(px), 40, 30, 3))).toBe(true);
  });

  it('decodes hand-built RGBA and gray+alpha PNGs', () => {
    const rgba = pattern(5, 4, 4);
    const a = decodePng(handPng(5, 4, 6, 8, 4, rgba));
    expect(a.channels).toBe(4);
    expect(Buffer.from(a.data).equals(Buffer.from(rgba))).toBe(true);
    const ga = pattern(3, 3, 2);
    expect(Buffer.from(decodePng(handPng(3, 3, 4, 8, 2, ga)).data).equals(Buffer.from(ga))).toBe(true);
  });

  it('refuses unsupported formats with a clear message', () => {
    expect(() => decodePng(handPng(2, 2, 0, 16, 2, new Uint8Array(8)))).toThrow(/bit depth 16/);
    expect(() => decodePng(handPng(2, 2, 3, 8, 1, new Uint8Array(4)))).toThrow(/palette/);
    expect(() => decodePng(handPng(2, 2, 2, 8, 3, new Uint8Array(12), 1))).toThrow(/interlaced/);
    expect(() => decodePng(Buffer.from('GIF89a....'))).toThrow(/not a PNG/);
  });

  it('detects corrupt and truncated files', () => {
    const png = encodePng(pattern(16, 16, 3), 16, 16, 3);
    const flipped = Buffer.from(png);
    flipped[png.length - 20] = flipped[png.length - 20]! ^ 0xff; // inside IDAT
    expect(() => decodePng(flipped)).toThrow(PngError);
    expect(() => decodePng(flipped)).toThrow(/CRC mismatch/);
    expect(() => decodePng(png.subarray(0, png.length - 30))).toThrow(/truncated/);
    expect(() => decodePng(png.subarray(0, 30))).toThrow(/truncated/);
    // Valid chunks but too little image data: a 4×2 image whose IHDR claims 4 rows.
    const short = Buffer.from(encodePng(new Uint8Array(8), 4, 2, 1));
    short.writeUInt32BE(4, 20);
    short.writeUInt32BE(crc32(short.subarray(12, 29)), 29);
    expect(() => decodePng(short)).toThrow(/truncated PNG: image data has 10 bytes, expected 20/);
  });

  it('encodes pixels that Pillow (Debian python3-pil) decodes to the same values', async () => {
    const py = '/usr/bin/python3';
    const check = existsSync(py) ? spawnSync(py, ['-c', 'import PIL'], { encoding: 'utf8' }) : null;
    if (!check || check.status !== 0) throw new Error('the reference needs Debian python3-pil: run scripts/install-test-deps.sh');
    const dir = await tmp();
    const px = pattern(23, 17, 3);
    const file = join(dir, 'p.png');
    await writeFile(file, encodePng(px, 23, 17, 3));
    const out = spawnSync(py, ['-c', `from PIL import Image; import sys; sys.stdout.write(Image.open(${JSON.stringify(file)}).tobytes().hex())`], { encoding: 'utf8' });
    expect(out.status).toBe(0);
    expect(out.stdout).toBe(Buffer.from(px).toString('hex'));
  });
});

describe('image size without decoding', () => {
  const jpeg = (w: number, h: number, exifBytes = 0) => {
    const app1 = Buffer.alloc(4 + exifBytes);
    app1.set([0xff, 0xe1, ((exifBytes + 2) >> 8) & 0xff, (exifBytes + 2) & 0xff]);
    const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, h >> 8, h & 0xff, w >> 8, w & 0xff, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    return Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.from([0xff, 0xe0, 0x00, 0x04, 0x4a, 0x46]), app1, Buffer.from([0xff, 0xff]), sof, Buffer.from([0xff, 0xda, 0, 2]), Buffer.from([0xff, 0xd9])]);
  };

  it('reads PNG and JPEG sizes from buffers and files', async () => {
    expect(await readImageSizeFromBuffer(encodePng(pattern(31, 9, 1), 31, 9, 1))).toEqual({ format: 'png', width: 31, height: 9 });
    expect(await readImageSizeFromBuffer(jpeg(640, 480))).toEqual({ format: 'jpeg', width: 640, height: 480 });
    const dir = await tmp();
    await writeFile(join(dir, 'a.jpg'), jpeg(1234, 567, 60_000));
    await writeFile(join(dir, 'b.png'), encodePng(pattern(3, 300, 3), 3, 300, 3));
    expect(await readImageSize(join(dir, 'a.jpg'))).toEqual({ format: 'jpeg', width: 1234, height: 567 });
    expect(await readImageSize(join(dir, 'b.png'))).toEqual({ format: 'png', width: 3, height: 300 });
  });

  it('says what is wrong with other or broken files', async () => {
    await expect(readImageSizeFromBuffer(Buffer.from('hello world'))).rejects.toThrow(/not a PNG or JPEG/);
    await expect(readImageSizeFromBuffer(jpeg(10, 10).subarray(0, 12))).rejects.toThrow(ImageSizeError);
    const dir = await tmp();
    await writeFile(join(dir, 'x.png'), Buffer.from([137, 80, 78, 71, 13, 10, 26, 10, 0, 0]));
    await expect(readImageSize(join(dir, 'x.png'))).rejects.toThrow(/x\.png: truncated PNG/);
  });
});
