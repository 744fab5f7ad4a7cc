/**
 * Issue 20 item 2: images whose headers look right but do not decode. Each file here is a real
 * mutation of a real PNG or JPEG (a broken CRC, a changed header with its CRC recomputed, a
 * corrupt JPEG stream, a corrupt mask); the import must skip and report every one, naming the file
 * and the reason, as it does other problems. And the reader streams: it never holds a large file.
 */
import { describe, expect, it } from 'vitest';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { Store } from '../../src/main/core/store/store';
import { importFolder, rescanDataset } from '../../src/main/core/datasets/import/importer';
import { HEAD_BYTES, createInThreadReader, createWorkerReader, type FactReader } from '../../src/main/core/datasets/import/file-facts';
import { crc32, pngChunk } from '../../src/main/core/image/png';
import { deflateSync } from 'node:zlib';
import { useTmpDirs } from '../helpers/tmp';
import { maskPng, png, scenarioFiles, writeTree } from './helpers';

const tmp = useTmpDirs();

/** A copy of `bytes` (never a view of Buffer's shared pool). */
function copy(bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes);
}

/** The offset of the first chunk of `type` in a PNG. */
function chunkAt(bytes: Uint8Array, type: string): { pos: number; length: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let pos = 8; pos < bytes.length; pos += 12 + view.getUint32(pos)) {
    if (String.fromCharCode(...bytes.subarray(pos + 4, pos + 8)) === type) return { pos, length: view.getUint32(pos) };
  }
  throw new Error(`no ${type} chunk`);
}

/** `bytes` with IHDR's width and height set, its CRC recomputed so only the image data disagrees. */
function withSize(bytes: Uint8Array, width: number, height: number): Uint8Array {
  const out = copy(bytes);
  const view = new DataView(out.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(29, crc32(out.subarray(12, 29)) >>> 0);
  return out;
}

async function noisyJpeg(seed: number): Promise<Uint8Array> {
  const raw = new Uint8Array(96 * 96 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761 + seed * 97) >>> 24;
  return copy(await sharp(raw, { raw: { width: 96, height: 96, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
}

describe('undecodable images at import', () => {
  it('skips and reports broken CRCs, changed headers, a corrupt JPEG stream and a corrupt mask', async () => {
    const root = await tmp();
    const good = copy(png(5000, 32, 32));
    const idat = chunkAt(good, 'IDAT');
    const badIdatCrc = copy(good);
    badIdatCrc[idat.pos + 8 + idat.length]! ^= 0xff;
    const badIhdrCrc = copy(good);
    badIhdrCrc[29]! ^= 0xff;
    const jpg = await noisyJpeg(1);
    const corruptJpeg = copy(jpg);
    for (let i = Math.floor(jpg.length * 0.6); i < Math.floor(jpg.length * 0.6) + 120; i++) corruptJpeg[i] = (i * 7) & 0xff;
    const mask = copy(maskPng());
    const maskIdat = chunkAt(mask, 'IDAT');
    mask[maskIdat.pos + 8 + maskIdat.length]! ^= 0xff;
    await writeTree(root, {
      ...scenarioFiles('metal_welding', ['weld_pit'], { seed: 5100 }),
      'metal_welding/train/good/crc-idat.png': badIdatCrc,
      'metal_welding/train/good/crc-ihdr.png': badIhdrCrc,
      'metal_welding/train/good/huge.png': withSize(good, 20000, 20000),
      'metal_welding/train/good/wider.png': withSize(good, 64, 32),
      'metal_welding/train/good/narrower.png': withSize(good, 16, 32),
      'metal_welding/train/good/corrupt-stream.jpg': corruptJpeg,
      'metal_welding/train/good/fine.jpg': jpg,
      'metal_welding/test/weld_pit/badmask.png': png(5200),
      'metal_welding/ground_truth/weld_pit/badmask_mask.png': mask,
    });
    const store = await Store.open(await tmp());
    const { report } = await importFolder(store, { root });
    const found = Object.fromEntries(report.problems.map((g) => [g.kind, Object.fromEntries(g.examples.map((e) => [e.path, e.detail]))]));
    const train = (name: string) => `metal_welding/train/good/${name}`;
    expect(Object.keys(found['corrupt-image'] ?? {}).sort()).toEqual([train('corrupt-stream.jpg'), train('crc-idat.png'), train('crc-ihdr.png'), train('narrower.png'), train('wider.png')]);
    expect(found['corrupt-image']![train('crc-idat.png')]).toMatch(/CRC mismatch in the IDAT chunk/);
    expect(found['corrupt-image']![train('crc-ihdr.png')]).toMatch(/CRC mismatch in the IHDR chunk/);
    expect(found['corrupt-image']![train('wider.png')]).toMatch(/^does not decode: /);
    expect(found['corrupt-image']![train('corrupt-stream.jpg')]).toMatch(/^does not decode: .*JPEG/);
    expect(found['too-large']).toEqual({ [train('huge.png')]: '20000×20000 pixels, over the limit of 67108864 (8192 × 8192)' });
    expect(found['mask-unreadable']).toEqual({ 'metal_welding/ground_truth/weld_pit/badmask_mask.png': expect.stringMatching(/CRC mismatch in the IDAT chunk/) });
    expect(report.totals.skipped).toBe(6);

    const rels = (store.connection.prepare('SELECT rel_path FROM samples').all() as { rel_path: string }[]).map((r) => r.rel_path);
    expect(rels).toContain(train('fine.jpg'));
    for (const bad of ['crc-idat.png', 'crc-ihdr.png', 'huge.png', 'wider.png', 'narrower.png', 'corrupt-stream.jpg']) expect(rels).not.toContain(train(bad));
    store.close();
  });

  it('a rescan decodes a file that changed and drops it when it no longer decodes', async () => {
    const root = await tmp();
    await writeTree(root, scenarioFiles('wind_turbine', ['crack'], { seed: 5300 }));
    const store = await Store.open(await tmp());
    const { datasetId } = await importFolder(store, { root });
    const victim = 'wind_turbine/train/good/001.png';
    const original = copy(png(5301));
    await writeTree(root, { [victim]: withSize(original, 8, 16) });
    const { report } = await rescanDataset(store, { datasetId });
    expect(report.problems.find((g) => g.kind === 'corrupt-image')?.examples).toEqual([{ path: victim, detail: expect.stringMatching(/^does not decode: /) }]);
    expect(report.changes?.removed).toBe(1);
    store.close();
  });
});

/** A PNG of `width`×`height` 8-bit gray from `rows` (each a filter byte then the row), every CRC right. */
function grayPng(width: number, height: number, rows: Uint8Array, trailing = new Uint8Array(0)): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = 8;
  const idat = new Uint8Array([...deflateSync(rows), ...trailing]);
  return new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, ...pngChunk('IHDR', ihdr), ...pngChunk('IDAT', idat), ...pngChunk('IEND', new Uint8Array(0))]);
}

function grayRows(width: number, height: number, filter = 0): Uint8Array {
  const rows = new Uint8Array((width + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width + 1)] = filter;
    for (let x = 0; x < width; x++) rows[y * (width + 1) + 1 + x] = (x * 9 + y * 5) & 0xff;
  }
  return rows;
}

describe("the reader's PNG pixel check", () => {
  it('proves common PNGs whole without decoding; leaves the rest, and every defect, to the decode', async () => {
    const rgb16 = copy(await sharp({ create: { width: 24, height: 20, channels: 4, background: { r: 9, g: 80, b: 200, alpha: 0.5 } } }).toColourspace('rgb16').png().toBuffer());
    const files: Record<string, Uint8Array> = {
      'rgb.png': png(5600, 32, 24),
      'gray.png': maskPng(20, 12),
      'gray-built.png': grayPng(10, 6, grayRows(10, 6)),
      'rgba16.png': rgb16,
      // Valid, but outside what the check covers: decoded instead.
      'palette.png': copy(await sharp(png(5601, 32, 32), { raw: undefined }).png({ palette: true }).toBuffer()),
      'interlaced.png': copy(await sharp(png(5602, 32, 32)).png({ progressive: true }).toBuffer()),
      // Defects that headers and CRCs do not show.
      'wider.png': withSize(copy(png(5603, 32, 32)), 64, 32),
      'narrower.png': withSize(copy(png(5604, 32, 32)), 16, 32),
      'filter-7.png': grayPng(10, 6, grayRows(10, 6, 7)),
      'short-rows.png': grayPng(10, 6, grayRows(10, 5)),
      'after-stream.png': grayPng(10, 6, grayRows(10, 6), new Uint8Array([1, 2, 3, 4])),
    };
    const dir = await writeTree(await tmp(), files);
    const names = Object.keys(files);
    for (const reader of [createWorkerReader(2), createInThreadReader()]) {
      try {
        const facts = await reader.read(names.map((n) => ({ path: join(dir, n) })));
        const verified = Object.fromEntries(facts.map((f, i) => [names[i], f.status === 'read' && f.png === null && f.pixelsVerified]));
        expect(verified).toEqual({
          'rgb.png': true, 'gray.png': true, 'gray-built.png': true, 'rgba16.png': true,
          'palette.png': false, 'interlaced.png': false,
          'wider.png': false, 'narrower.png': false, 'filter-7.png': false, 'short-rows.png': false, 'after-stream.png': false,
        });
      } finally {
        await reader.close();
      }
    }

    // The import decodes what the check left: the valid ones are imported, the broken ones reported.
    const root = await tmp();
    await writeTree(root, {
      ...scenarioFiles('metal_welding', ['weld_pit'], { seed: 5700 }),
      ...Object.fromEntries(Object.entries(files).map(([n, b]) => [`metal_welding/train/good/${n}`, b])),
    });
    const store = await Store.open(await tmp());
    const { report } = await importFolder(store, { root });
    const corrupt = report.problems.find((g) => g.kind === 'corrupt-image')?.examples.map((e) => e.path.split('/').pop()).sort();
    expect(corrupt).toEqual(['filter-7.png', 'narrower.png', 'short-rows.png', 'wider.png']);
    const rels = (store.connection.prepare('SELECT rel_path FROM samples').all() as { rel_path: string }[]).map((r) => r.rel_path.split('/').pop());
    for (const fine of ['rgb.png', 'gray.png', 'gray-built.png', 'rgba16.png', 'palette.png', 'interlaced.png']) expect(rels).toContain(fine);
    store.close();
  });
});

describe('the readers stream', () => {
  for (const [name, make] of [['worker pool', () => createWorkerReader(2)], ['in-thread', createInThreadReader]] as const) {
    it(`${name}: a 48 MiB file is hashed whole but only its head comes back`, async () => {
      const dir = await tmp();
      const path = join(dir, 'big.png');
      // A real PNG followed by 48 MiB of bytes after IEND: the walk stops at IEND, the hash covers all.
      const handle = await open(path, 'w');
      const head = png(5400, 32, 32);
      await handle.write(head, 0, head.length, 0);
      await handle.truncate(48 * 1024 * 1024);
      await handle.close();
      const reader: FactReader = make();
      try {
        const [facts] = await reader.read([{ path }]);
        // Keys first: a failure must not print 48 MiB of bytes.
        expect(Object.keys(facts!).sort()).toEqual(['hash', 'head', 'mtimeMs', 'pixelsVerified', 'png', 'size', 'status', 'tail']);
        if (facts?.status !== 'read') throw new Error('not read');
        expect([facts.size, facts.png]).toEqual([48 * 1024 * 1024, null]);
        expect(facts.head.length).toBe(HEAD_BYTES);
        expect(facts.tail.length).toBe(64);
        expect(facts.hash).toMatch(/^[0-9a-f]{64}$/);
      } finally {
        await reader.close();
      }
    });
  }
});

describe('a run that meets an unreadable image anyway', () => {
  it('fails at that image, naming the file and the reason', async () => {
    const { TrainingImages } = await import('../../src/main/core/methods/harness/image-source');
    const dir = await tmp();
    await writeTree(dir, { 'a.png': png(5500), 'b.png': withSize(copy(png(5501)), 64, 16) });
    const images = new TrainingImages([join(dir, 'a.png'), join(dir, 'b.png')], 16);
    await expect(images.batch([0, 1])).rejects.toThrow(`cannot read image ${join(dir, 'b.png')}: pngload: libspng read error`);
  });
});
