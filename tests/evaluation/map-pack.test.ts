/**
 * The .amap format: round trip through writer and reader, scaling of values outside float16's range,
 * refusal of incomplete and corrupt files, and the Python reader printed in docs/anomaly-maps.md
 * (run as written) reading what we wrote.
 */
import { readFileSync, writeFileSync, existsSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { float32ToHalf, halfToFloat32 } from '../../src/main/core/evaluation/float16';
import { MapPackError, MapPackReader, MapPackWriter } from '../../src/main/core/evaluation/map-pack';
import { useTmpDirs } from '../helpers/tmp';
import { rng, runPython } from './reference';

const tmp = useTmpDirs();

function maps(): Float32Array[] {
  const r = rng(9);
  return [
    Float32Array.from({ length: 12 }, () => r()),
    Float32Array.from({ length: 12 }, () => (r() - 0.5) * 3e6), // beyond float16's range
    Float32Array.from({ length: 12 }, () => r() * 1e-7), // below its normal range
    new Float32Array(12),
  ];
}

async function writeSample(path: string): Promise<Float32Array[]> {
  const ms = maps();
  const w = await MapPackWriter.create(path, 3, 4, { method: 'test' });
  for (const [i, m] of ms.entries()) await w.add(`test/x/${i}.png`, m, i === 0 ? 0.5 : undefined);
  await w.close();
  return ms;
}

describe('.amap anomaly-map files', () => {
  it('round-trip with float16 precision, scaled where float16 would overflow or underflow', async () => {
    const path = join(await tmp(), 'maps.amap');
    const ms = await writeSample(path);
    expect(existsSync(`${path}.tmp`)).toBe(false);
    const r = await MapPackReader.open(path);
    try {
      expect([r.count, r.height, r.width]).toEqual([4, 3, 4]);
      expect(r.keys()).toEqual(['test/x/0.png', 'test/x/1.png', 'test/x/2.png', 'test/x/3.png']);
      expect(r.index.entries[0]!.score).toBe(0.5);
      expect(r.index.meta).toEqual({ method: 'test' });
      // Map 0 is stored unscaled: exactly numpy's float16 rounding.
      expect(Array.from(await r.read(0))).toEqual(Array.from(halfToFloat32(float32ToHalf(ms[0]!))));
      for (const i of [1, 2]) {
        const back = await r.read(i);
        ms[i]!.forEach((v, k) => expect(Math.abs(back[k]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11));
        expect(r.index.entries[i]!.scale).not.toBe(1);
      }
      expect(Array.from((await r.readKey('test/x/3.png'))!)).toEqual(new Array(12).fill(0));
      expect(await r.readKey('missing')).toBeNull();
      await expect(r.read(9)).rejects.toThrow(MapPackError);
    } finally {
      await r.close();
    }
  });

  it('refuses non-finite values, wrong sizes, incomplete and truncated files', async () => {
    const dir = await tmp();
    const w = await MapPackWriter.create(join(dir, 'a.amap'), 2, 2);
    await expect(w.add('k', Float32Array.from([1, Number.NaN, 0, 0]))).rejects.toThrow(/non-finite/);
    await expect(w.add('k', new Float32Array(3))).rejects.toThrow(/expected 2×2/);
    await w.add('k', new Float32Array(4));
    // A writer that never closed leaves only the .tmp, whose header says it is incomplete.
    await expect(MapPackReader.open(join(dir, 'a.amap.tmp'))).rejects.toThrow(/incomplete/);
    await w.abort();
    expect(existsSync(join(dir, 'a.amap.tmp'))).toBe(false);

    const path = join(dir, 'b.amap');
    await writeSample(path);
    truncateSync(path, 80);
    await expect(MapPackReader.open(path)).rejects.toThrow(/truncated or corrupt/);
    writeFileSync(path, 'not a map file at all, but long enough to hold a header of 64 bytes....');
    await expect(MapPackReader.open(path)).rejects.toThrow(/bad magic/);
  });

  it('reads in Python with the reader printed in docs/anomaly-maps.md', async () => {
    const path = join(await tmp(), 'maps.amap');
    const ms = await writeSample(path);
    const doc = readFileSync(join(import.meta.dirname, '../../docs/anomaly-maps.md'), 'utf8');
    const code = /```python\n([\s\S]*?)```/.exec(doc)![1]!;
    const out = runPython(
      `${code}
import sys
m, index = read_amap(sys.argv[1])
print(json.dumps({"shape": list(m.shape), "maps": m.astype(float).tolist(), "keys": [e["key"] for e in index["entries"]]}))
`,
      [path],
    );
    const r = JSON.parse(out) as { shape: number[]; maps: number[][][]; keys: string[] };
    expect(r.shape).toEqual([4, 3, 4]);
    expect(r.keys[1]).toBe('test/x/1.png');
    const reader = await MapPackReader.open(path);
    for (let i = 0; i < ms.length; i++) {
      const ours = await reader.read(i);
      expect(r.maps[i]!.flat()).toEqual(Array.from(ours));
    }
    await reader.close();
  });
});
