/**
 * .npy reading and writing against numpy itself: files numpy writes in every layout we accept, files
 * we write that numpy reads back, float16 rounding bit for bit, and clear errors for bad files.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { float32ToHalf, halfToFloat32 } from '../../src/main/core/evaluation/float16';
import { NpyError, encodeNpy, npyToMap, parseNpy } from '../../src/main/core/evaluation/npy';
import { runPython } from './reference';

const dir = mkdtempSync(join(tmpdir(), 'miad-npy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('.npy files numpy writes', () => {
  it('float32, float16, big-endian, Fortran order, float64, 1×H×W and H×W×1 all read as the same H×W map', () => {
    runPython(
      `
import numpy as np, sys
d = sys.argv[1]
a = (np.arange(12, dtype=np.float32).reshape(3, 4) / 7).astype(np.float32)
np.save(d + '/f4.npy', a)
np.save(d + '/f2.npy', a.astype(np.float16))
np.save(d + '/be.npy', a.astype('>f4'))
np.save(d + '/fortran.npy', np.asfortranarray(a))
np.save(d + '/f8.npy', a.astype(np.float64))
np.save(d + '/chw.npy', a[None])
np.save(d + '/hwc.npy', a[:, :, None])
np.save(d + '/f2bits.npy', a.astype(np.float16).view(np.uint16).astype(np.float32))
`,
      [dir],
    );
    const expected = Array.from({ length: 12 }, (_, i) => Math.fround(Math.fround(i) / 7));
    for (const name of ['f4', 'be', 'fortran', 'f8', 'chw', 'hwc']) {
      const m = npyToMap(parseNpy(readFileSync(join(dir, `${name}.npy`))));
      expect([m.height, m.width], name).toEqual([3, 4]);
      expect(Array.from(m.data), name).toEqual(expected);
    }
    const half = npyToMap(parseNpy(readFileSync(join(dir, 'f2.npy'))));
    const bits = parseNpy(readFileSync(join(dir, 'f2bits.npy'))).data as Float32Array;
    expect(Array.from(float32ToHalf(expected))).toEqual(Array.from(bits));
    expect(Array.from(half.data)).toEqual(Array.from(halfToFloat32(Uint16Array.from(bits))));
  });
});

describe('.npy files we write', () => {
  it('numpy reads them back exactly, float16 rounding included', () => {
    const values = [0, -0, 1, -1.5, 65504, 65520, 1e-8, 6.1e-5, 2.98e-8, 0.1, 3.14159, -2e5, 1 / 3];
    writeFileSync(join(dir, 'ours-f4.npy'), encodeNpy(values, [values.length], 'float32'));
    writeFileSync(join(dir, 'ours-f2.npy'), encodeNpy(values, [values.length], 'float16'));
    const out = runPython(
      `
import numpy as np, sys, json
d = sys.argv[1]
a = np.load(d + '/ours-f4.npy'); h = np.load(d + '/ours-f2.npy')
ref = a.astype(np.float16)
print(json.dumps({'shape': list(a.shape), 'dtype': str(h.dtype), 'same': bool(np.array_equal(h.view(np.uint16), ref.view(np.uint16))), 'a': [float(x) for x in a]}))
`,
      [dir],
    );
    const r = JSON.parse(out) as { shape: number[]; dtype: string; same: boolean; a: number[] };
    expect(r.shape).toEqual([values.length]);
    expect(r.dtype).toBe('float16');
    expect(r.same).toBe(true);
    expect(r.a).toEqual(values.map((v) => Math.fround(v)));
  });
});

describe('bad files', () => {
  it('say what is wrong', () => {
    expect(() => parseNpy(Uint8Array.from([1, 2, 3]))).toThrow(NpyError);
    const good = encodeNpy([1, 2, 3, 4], [2, 2], 'float32');
    expect(() => parseNpy(good.subarray(0, good.length - 3))).toThrow(/truncated/);
    const int32 = good.slice();
    int32[Buffer.from(good).indexOf('<f4') + 1] = 'i'.charCodeAt(0);
    expect(() => parseNpy(int32)).toThrow(/unsupported dtype '<i4'/);
    expect(() => npyToMap(parseNpy(encodeNpy([1, 2], [2], 'float32')))).toThrow(/2-D map/);
    expect(() => npyToMap(parseNpy(encodeNpy([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], 'float32')))).toThrow(/2-D map/);
    expect(() => npyToMap(parseNpy(encodeNpy([1, 0], [1, 2], 'uint8')))).toThrow(/float16 or float32/);
  });
});
