import { describe, it, expect } from 'vitest';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { DEFECT_TYPES, SCENARIOS, SCENARIO_INFO } from '../../src/shared/taxonomy';
import { generateMiadMini, planMiadMini, resolveMiadMiniOptions, MIAD_MINI_MANIFEST } from '../../src/main/core/datasets/miad-mini/generate';
import { diffMask, renderNormalTwin, renderSample } from '../../src/main/core/datasets/miad-mini/render';
import { decodePng } from '../../src/main/core/image/png';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
const SMALL = { train: 2, test: 8, size: 64 } as const;

async function tree(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(root, p), await readFile(p));
    }
  };
  await walk(root);
  return out;
}

describe('MIAD-mini generator', () => {
  it('is deterministic: one seed gives byte-identical trees, another seed different files', async () => {
    const [a, b, c] = [await tmp(), await tmp(), await tmp()];
    await generateMiadMini({ outDir: a, seed: 7, ...SMALL });
    await generateMiadMini({ outDir: b, seed: 7, ...SMALL });
    await generateMiadMini({ outDir: c, seed: 8, ...SMALL });
    const [ta, tb, tc] = [await tree(a), await tree(b), await tree(c)];
    expect([...ta.keys()].sort()).toEqual([...tb.keys()].sort());
    for (const [k, v] of ta) expect(v.equals(tb.get(k)!), k).toBe(true);
    let differing = 0;
    for (const [k, v] of ta) if (k.endsWith('.png') && !k.includes('ground_truth') && !v.equals(tc.get(k)!)) differing++;
    expect(differing).toBe([...ta.keys()].filter((k) => k.endsWith('.png') && !k.includes('ground_truth')).length);
  });

  it('gives the same images for a scenario whether or not others are generated', async () => {
    const [all, one] = [await tmp(), await tmp()];
    await generateMiadMini({ outDir: all, seed: 3, ...SMALL, scenarios: ['witness_mark', 'wind_turbine'] });
    await generateMiadMini({ outDir: one, seed: 3, ...SMALL, scenarios: ['wind_turbine'] });
    const [ta, to] = [await tree(all), await tree(one)];
    for (const [k, v] of to) if (k !== MIAD_MINI_MANIFEST) expect(v.equals(ta.get(k)!), k).toBe(true);
  });

  it('writes the MVTec layout with every Table A.1 defect type, masks, and a report that matches the disk', async () => {
    const out = await tmp();
    const report = await generateMiadMini({ outDir: out, seed: 0, train: 3, test: 8, size: 80 });
    expect(report.scenarios.map((s) => s.scenario)).toEqual([...SCENARIOS]);
    const seenTypes = new Set<string>();
    for (const s of report.scenarios) {
      const defects = SCENARIO_INFO[s.scenario].defects;
      expect((await readdir(join(out, s.scenario, 'test'))).sort()).toEqual(['good', ...defects].sort());
      expect((await readdir(join(out, s.scenario, 'ground_truth'))).sort()).toEqual([...defects].sort());
      expect((await readdir(join(out, s.scenario, 'train', 'good'))).sort()).toEqual(['000.png', '001.png', '002.png']);
      expect(s.counts.train).toBe(3);
      expect(s.counts.testGood + s.counts.testAnomalous).toBe(8);
      expect(s.counts.testGood).toBe(4);
      const perType = defects.map((d) => s.counts.byDefect[d]!);
      expect(Math.max(...perType) - Math.min(...perType)).toBeLessThanOrEqual(1);
      expect(Math.min(...perType)).toBeGreaterThanOrEqual(1);
      for (const f of s.files) {
        const img = decodePng(await readFile(join(out, f.relPath)));
        expect([img.width, img.height, img.channels]).toEqual([80, 80, 3]);
        expect((await stat(join(out, f.relPath))).size).toBe(f.bytes);
        if (f.label === 'anomalous') {
          seenTypes.add(`${f.scenario}/${f.defect}`);
          expect(f.relPath).toBe(`${f.scenario}/test/${f.defect}/${String(f.index).padStart(3, '0')}.png`);
          expect(f.maskRelPath).toBe(`${f.scenario}/ground_truth/${f.defect}/${String(f.index).padStart(3, '0')}_mask.png`);
          const mask = decodePng(await readFile(join(out, f.maskRelPath!)));
          expect([mask.width, mask.height, mask.channels]).toEqual([80, 80, 1]);
          expect(mask.data.every((v) => v === 0 || v === 255)).toBe(true);
          const set = mask.data.reduce((n, v) => n + (v ? 1 : 0), 0) / mask.data.length;
          expect(set).toBeCloseTo(f.maskFraction, 10);
          expect(set).toBeGreaterThan(0);
        } else {
          expect(f.maskRelPath).toBeNull();
        }
      }
    }
    expect([...seenTypes].sort()).toEqual(DEFECT_TYPES.map((d) => d.id).sort());
    expect(seenTypes.size).toBe(14);
  });

  it('plans an even spread and honours small test counts', () => {
    const plan = planMiadMini(resolveMiadMiniOptions({ test: 7, train: 1, scenarios: ['nut_and_bolt'] }));
    expect(plan[0]!.counts).toEqual({ train: 1, testGood: 3, testAnomalous: 4, byDefect: { looseness: 2, bolt_miss: 1, nut_miss: 1 } });
    expect(() => resolveMiadMiniOptions({ size: 8 })).toThrow(/size must be/);
    expect(() => resolveMiadMiniOptions({ viewpoint: 2 })).toThrow(/viewpoint/);
  });

  it('masks exactly the pixels the defect changed, for samples of every defect type', () => {
    const knobs = { viewpoint: 0.7, background: 0.7, surface: 0.7 };
    for (const d of DEFECT_TYPES) {
      for (let index = 0; index < 4; index++) {
        const key = { seed: 11, scenario: d.scenario, folder: `test/${d.name}`, index };
        const sample = renderSample(key, 96, knobs);
        const twin = renderNormalTwin(key, 96, knobs);
        expect(sample.mask, d.id).not.toBeNull();
        expect(Buffer.from(diffMask(twin, sample.rgb)).equals(Buffer.from(sample.mask!)), d.id).toBe(true);
        const fraction = sample.mask!.reduce((n, v) => n + (v ? 1 : 0), 0) / sample.mask!.length;
        expect(fraction, `${d.id} #${index}`).toBeGreaterThan(0.0005);
        expect(fraction, `${d.id} #${index}`).toBeLessThan(0.4);
        // The twin of a defect image is a plausible normal image: not identical to the defect image.
        expect(Buffer.from(twin).equals(Buffer.from(sample.rgb))).toBe(false);
      }
    }
  });

  it('refuses a file or a foreign non-empty folder, and regenerates an earlier output in place', async () => {
    const dir = await tmp();
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await expect(generateMiadMini({ outDir: dir, ...SMALL })).rejects.toThrow(/not empty and is not an earlier MIAD-mini output/);
    await expect(generateMiadMini({ outDir: join(dir, 'notes.txt'), ...SMALL })).rejects.toThrow(/existing file/);
    const out = join(dir, 'mini');
    await generateMiadMini({ outDir: out, seed: 1, train: 3, test: 4, size: 64, scenarios: ['wind_turbine', 'metal_welding'] });
    await mkdir(join(out, 'metal_welding', 'extra'));
    await writeFile(join(out, 'metal_welding', 'extra', 'keep.txt'), 'user file');
    await generateMiadMini({ outDir: out, seed: 1, train: 1, test: 2, size: 64, scenarios: ['wind_turbine'] });
    const files = [...(await tree(out)).keys()].sort();
    expect(files).toEqual([
      'metal_welding/extra/keep.txt',
      MIAD_MINI_MANIFEST,
      'wind_turbine/ground_truth/crack/000_mask.png',
      'wind_turbine/test/crack/000.png',
      'wind_turbine/test/good/000.png',
      'wind_turbine/train/good/000.png',
    ]);
  });
});
