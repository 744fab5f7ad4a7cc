// safetensors reader/writer: round trips in F32/F16/BF16/I64, a byte-exact known file, and every
// kind of damaged file refused with a message naming the file or tensor.
import { describe, it, expect } from 'vitest';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodeSafetensors,
  decodeSafetensors,
  loadSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
  floatToHalf,
  halfToFloat,
  floatToBf16,
  bf16ToFloat,
  parseSafetensors,
} from '../../src/main/core/engine/safetensors';

function fileWith(header: object, data: Uint8Array, pad = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  it('decodes a hand-made file byte for byte (as the reference writes it)', () => {
    const data = new Uint8Array(new Float32Array([1, -2.5, 3, 4]).buffer);
    const bytes = fileWith({ __metadata__: { format: 'pt' }, w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } }, data);
    const { header, tensors } = decodeSafetensors(bytes, 'mem');
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(tensors.get('w')?.shape).toEqual([2, 2]);
    expect([...(tensors.get('w')?.data as Float32Array)]).toEqual([1, -2.5, 3, 4]);
  });

  it('round-trips F32, F16, BF16 and I64 with an 8-byte aligned data section', () => {
    const vals = new Float32Array([0, 1, -1, 0.1, 65504, 1e-5, -3.14159, 1234.5]);
    const bytes = encodeSafetensors(
      {
        a: { shape: [2, 4], data: vals },
        h: { dtype: 'F16', shape: [8], data: vals },
        b: { dtype: 'BF16', shape: [4, 2], data: vals },
        n: { dtype: 'I64', shape: [], data: new BigInt64Array([7n]) },
      },
      { arch: 'test' },
    );
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    const { tensors, header } = decodeSafetensors(bytes);
    expect(header.metadata.arch).toBe('test');
    expect([...(tensors.get('a')!.data as Float32Array)]).toEqual([...vals]);
    const h = tensors.get('h')!.data as Float32Array;
    const b = tensors.get('b')!.data as Float32Array;
    vals.forEach((v, i) => {
      expect(Math.abs(h[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -24);
      expect(Math.abs(b[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -8);
    });
    expect(tensors.get('n')!.data).toEqual(new BigInt64Array([7n]));
    expect(tensors.get('n')!.shape).toEqual([]);
  });

  it('converts half floats exactly where they are representable, rounding to nearest even', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(1e6)).toBe(0x7c00);
    expect(floatToHalf(2 ** -24)).toBe(0x0001);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
    for (let h = 0; h < 0x7c00; h += 37) expect(floatToHalf(halfToFloat(h))).toBe(h);
    expect(floatToBf16(1)).toBe(0x3f80);
    expect(bf16ToFloat(0x3f80)).toBe(1);
    expect(floatToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(Number.isNaN(bf16ToFloat(floatToBf16(NaN)))).toBe(true);
  });

  it('writes atomically and reads the header without reading the data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'st-'));
    try {
      const path = join(dir, 'w.safetensors');
      await writeSafetensors(path, { 'layer1.0.conv1.weight': { shape: [4, 3, 3, 3], data: new Float32Array(108).fill(0.5) } });
      const header = await readSafetensorsHeader(path);
      expect(header.tensors.get('layer1.0.conv1.weight')?.shape).toEqual([4, 3, 3, 3]);
      const loaded = await loadSafetensors(path);
      expect((loaded.tensors.get('layer1.0.conv1.weight')!.data as Float32Array)[107]).toBe(0.5);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('refuses damaged files, naming the file and tensor', () => {
    const good = encodeSafetensors({ first: { shape: [2, 3], data: new Float32Array(6) }, second: { shape: [4], data: new Float32Array(4) } });

    it('truncated data', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'st-'));
      try {
        const path = join(dir, 'cut.safetensors');
        await writeFile(path, good.subarray(0, good.length - 5));
        await expect(readSafetensorsHeader(path)).rejects.toThrow(/cut\.safetensors: file is truncated: tensor 'second' ends at byte/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
    it('truncated header and tiny files', () => {
      expect(() => parseSafetensors(good.subarray(0, 20), 'x.st')).toThrow(/x\.st: file is truncated: the header needs/);
      expect(() => parseSafetensors(good.subarray(0, 5), 'x.st')).toThrow(/fewer than the 8-byte header length/);
    });
    it('a shape that does not match the byte length', () => {
      const bad = fileWith({ w: { dtype: 'F32', shape: [3, 3], data_offsets: [0, 16] } }, new Uint8Array(16));
      expect(() => parseSafetensors(bad, 'f')).toThrow(/tensor 'w': F32 \[3,3\] needs 36 bytes but data_offsets \[0, 16\] hold 16/);
    });
    it('an unknown dtype', () => {
      const bad = fileWith({ w: { dtype: 'F8_E4M3X', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2));
      expect(() => parseSafetensors(bad, 'f')).toThrow(/tensor 'w': unsupported dtype "F8_E4M3X"/);
    });
    it('overlapping tensors, gaps and trailing bytes', () => {
      const overlap = fileWith(
        { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
        new Uint8Array(12),
      );
      expect(() => parseSafetensors(overlap, 'f')).toThrow(/tensor 'b' overlaps/);
      const gap = fileWith({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8));
      expect(() => parseSafetensors(gap, 'f')).toThrow(/gap of 4 bytes precedes tensor 'a'/);
      const tail = fileWith({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8));
      expect(() => parseSafetensors(tail, 'f')).toThrow(/4 bytes after the last tensor/);
    });
    it('malformed headers', () => {
      expect(() => parseSafetensors(fileWith([] as unknown as object, new Uint8Array(0)), 'f')).toThrow(/header is not a JSON object/);
      const notJson = new Uint8Array(8 + 3);
      new DataView(notJson.buffer).setBigUint64(0, 3n, true);
      notJson.set([123, 120, 125], 8);
      expect(() => parseSafetensors(notJson, 'f')).toThrow(/not valid UTF-8 JSON/);
      const negShape = fileWith({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, new Uint8Array(0));
      expect(() => parseSafetensors(negShape, 'f')).toThrow(/tensor 'w': shape \[-1\]/);
      const badOffsets = fileWith({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, new Uint8Array(4));
      expect(() => parseSafetensors(badOffsets, 'f')).toThrow(/tensor 'w': data_offsets \[4, 0\] end before/);
    });
    it('a missing tensor asked for by name', () => {
      expect(() => decodeSafetensors(good, 'g.st', ['third'])).toThrow(/g\.st: tensor 'third' is missing/);
    });
    it('writer refuses data that does not fit its shape', () => {
      expect(() => encodeSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(/tensor 'w': shape \[2,2\] needs 4 values, got 3/);
    });
  });

  it('reads a file whose header carries padding spaces', async () => {
    const bytes = fileWith({ w: { dtype: 'BF16', shape: [1], data_offsets: [0, 2] } }, new Uint8Array([0x80, 0x3f]), 5);
    expect((decodeSafetensors(bytes).tensors.get('w')!.data as Float32Array)[0]).toBe(1);
  });
});
