/**
 * The importer end to end on real trees: MIAD-mini, layout variants (nesting, jpg, odd defect
 * names, MVTec AD categories), a deliberately broken tree with every problem the report names,
 * rescans after changes, and an import that fails mid-way.
 */
import { describe, expect, it } from 'vitest';
import { mkdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { Store } from '../../src/main/core/store/store';
import { ImportRepo } from '../../src/main/core/store/import-repo';
import { importFolder, rescanDataset, scanFolder } from '../../src/main/core/datasets/import/importer';
import { createInThreadReader, createWorkerReader } from '../../src/main/core/datasets/import/file-facts';
import { encodePng } from '../../src/main/core/image/png';
import { nodeWalkFs, type WalkFs } from '../../src/main/core/datasets/import/walk';
import type { ImportProgress, ImportReport } from '../../src/shared/calls/import';
import { isDefectAllowed, isScenario } from '../../src/shared/taxonomy';
import { useTmpDirs } from '../helpers/tmp';
import { jpeg, maskPng, png, scenarioFiles, writeTree } from './helpers';

const tmp = useTmpDirs();

async function freshStore(): Promise<Store> {
  return Store.open(await tmp());
}

function problem(report: ImportReport, kind: string) {
  return report.problems.find((g) => g.kind === kind);
}

function rows(store: Store) {
  return store.connection.prepare('SELECT * FROM samples ORDER BY rel_path').all() as Record<string, unknown>[];
}

describe('importing MIAD-mini', () => {
  it('imports every generated image with its label, mask and file facts, and stores the report', async () => {
    const root = join(await tmp(), 'mini');
    const generated = await generateMiadMini({ outDir: root, train: 3, test: 6, size: 64 });
    const store = await freshStore();
    const progress: ImportProgress[] = [];
    const result = await importFolder(store, { root }, { onProgress: (p) => progress.push(p) });
    const report = result.report;

    expect(report.datasetKind).toBe('miad-mini');
    expect(report.totals.samples).toBe(generated.totals.images);
    expect(report.totals.masks).toBe(generated.totals.masks);
    expect(report.problems).toEqual([]);
    expect(report.scenarios.map((s) => s.scenario)).toHaveLength(7);
    for (const s of report.scenarios) expect(s.train.good).toBe(3);

    const all = rows(store);
    expect(all).toHaveLength(generated.totals.images);
    for (const r of all) {
      expect(isScenario(r.scenario as string)).toBe(true);
      if (r.label !== 'good') {
        expect(isDefectAllowed(r.scenario as never, r.label as string)).toBe(true);
        expect(r.mask_rel_path).toMatch(/ground_truth\/.+_mask\.png$/);
      }
      expect(r.format).toBe('png');
      expect(r.content_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(r.width).toBe(64);
      expect(r.issues).toBeNull();
    }
    // The hash is the sha256 of the bytes on disk.
    const first = all[0]!;
    const { createHash } = await import('node:crypto');
    expect(first.content_hash).toBe(createHash('sha256').update(await readFile(join(root, first.rel_path as string))).digest('hex'));

    const stored = new ImportRepo(store).getReport({ datasetId: result.datasetId });
    expect(stored.report).toEqual(report);
    expect(stored.entry.samples).toBe(generated.totals.images);
    expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(['scanning', 'hashing', 'writing', 'done']));
    expect(progress.at(-1)).toEqual({ phase: 'done', done: generated.totals.images, total: generated.totals.images });

    // The same root twice is refused: rescan it instead.
    await expect(importFolder(store, { root })).rejects.toThrow(/already imported as dataset 1: rescan/);
    store.close();
  });
});

describe('layout variants', () => {
  it('nesting, .jpg, odd defect names, a subset of scenarios; unmapped names block until mapped', async () => {
    const root = await tmp();
    await writeTree(root, {
      ...scenarioFiles('Metal Welding/Metal Welding', ['Weld Pit', 'beads'], { seed: 100 }),
      ...scenarioFiles('nut_and_bolt', ['missing', 'Bolt-Missing'], { seed: 200 }),
      'wind_turbine/train/good/a.jpg': await jpeg(1),
      'wind_turbine/train/good/b.JPEG': await jpeg(2),
      'wind_turbine/test/good/c.jpg': await jpeg(3),
      'wind_turbine/test/cracks/d.jpg': await jpeg(4),
      'wind_turbine/ground_truth/cracks/d_mask.png': maskPng(),
    });
    const store = await freshStore();
    const scan = await scanFolder(store, root);
    expect(scan.kind).toBe('miad');
    expect(scan.scenarios.map((s) => [s.scenario, s.dir, s.nested])).toEqual([
      ['metal_welding', 'Metal Welding/Metal Welding', true],
      ['nut_and_bolt', 'nut_and_bolt', false],
      ['wind_turbine', 'wind_turbine', false],
    ]);
    const target = Object.fromEntries(scan.folders.map((f) => [`${f.scenario}/${f.folder}`, [f.target, f.how]]));
    expect(target).toEqual({
      'metal_welding/Weld Pit': ['weld_pit', 'alias'],
      'metal_welding/beads': ['weld_beading', 'alias'],
      'nut_and_bolt/Bolt-Missing': ['bolt_miss', 'alias'],
      'nut_and_bolt/missing': [null, null],
      'wind_turbine/cracks': ['crack', 'alias'],
    });
    expect(scan.unmapped.map((f) => [f.folder, f.allowed])).toEqual([['missing', ['looseness', 'bolt_miss', 'nut_miss']]]);

    await expect(importFolder(store, { root })).rejects.toThrow(/nut_and_bolt\/missing .*must be mapped by hand|could not be mapped/);
    await expect(importFolder(store, { root, mapping: { 'nut_and_bolt/missing': 'crack' } })).rejects.toThrow(/Table A.1 allows only looseness, bolt_miss, nut_miss/);
    expect(rows(store)).toHaveLength(0);

    const result = await importFolder(store, { root, name: 'wild copy', mapping: { 'nut_and_bolt/missing': 'nut_miss' } });
    const r = result.report;
    expect(r.problems).toEqual([]);
    expect(r.scenarios.find((s) => s.scenario === 'metal_welding')!.test).toEqual({ good: 2, weld_pit: 2, weld_beading: 2 });
    expect(r.scenarios.find((s) => s.scenario === 'nut_and_bolt')!.test).toEqual({ good: 2, nut_miss: 2, bolt_miss: 2 });
    expect(r.scenarios.find((s) => s.scenario === 'wind_turbine')).toMatchObject({ train: { good: 2 }, test: { good: 1, crack: 1 }, masks: 1 });
    const jpgRow = rows(store).find((x) => x.rel_path === 'wind_turbine/test/cracks/d.jpg')!;
    expect(jpgRow).toMatchObject({ format: 'jpeg', label: 'crack', source_folder: 'cracks', mask_rel_path: 'wind_turbine/ground_truth/cracks/d_mask.png', width: 16, height: 16 });
    const nested = rows(store).find((x) => (x.rel_path as string).startsWith('Metal Welding/Metal Welding/test/Weld Pit/'))!;
    expect(nested).toMatchObject({ scenario: 'metal_welding', label: 'weld_pit' });
    store.close();
  });

  it('a "skip" mapping imports nothing from that folder and the report lists it', async () => {
    const root = await tmp();
    await writeTree(root, scenarioFiles('nut_and_bolt', ['missing', 'looseness'], { seed: 300 }));
    const store = await freshStore();
    const { report } = await importFolder(store, { root, mapping: { 'nut_and_bolt/missing': 'skip' } });
    expect(report.scenarios[0]!.test).toEqual({ good: 2, looseness: 2 });
    expect(problem(report, 'skipped-folder')).toMatchObject({ count: 1, examples: [{ path: 'nut_and_bolt/test/missing' }] });
    expect(problem(report, 'mask-orphan')).toBeUndefined();
    expect(report.mapping['nut_and_bolt/missing']).toBe('skip');
    store.close();
  });

  it('MVTec AD categories keep their defect folder names; a single scenario folder as root works', async () => {
    const root = await tmp();
    await writeTree(root, {
      ...scenarioFiles('bottle', ['broken_large', 'contamination'], { seed: 400 }),
      ...scenarioFiles('metal_nut', ['flip', 'color'], { seed: 500 }),
      'license.txt': 'CC BY-NC-SA 4.0',
    });
    const store = await freshStore();
    const { report } = await importFolder(store, { root });
    expect(report.datasetKind).toBe('mvtec');
    expect(report.scenarios.map((s) => [s.scenario, s.test])).toEqual([
      ['bottle', { good: 2, broken_large: 2, contamination: 2 }],
      ['metal_nut', { good: 2, flip: 2, color: 2 }],
    ]);
    expect(report.totals.masks).toBe(8);

    const single = await importFolder(store, { root: join(root, 'bottle') });
    expect(single.report.scenarios.map((s) => [s.scenario, s.dir])).toEqual([['bottle', '']]);
    expect(single.report.totals.samples).toBe(9);
    store.close();
  });

  it('refuses a missing root, a file, and a folder without the layout', async () => {
    const root = await tmp();
    await writeTree(root, { 'a.txt': 'x', 'photos/one.png': png(1) });
    const store = await freshStore();
    await expect(importFolder(store, { root: join(root, 'nope') })).rejects.toThrow(/does not exist/);
    await expect(importFolder(store, { root: join(root, 'a.txt') })).rejects.toThrow(/is a file, not a folder/);
    await expect(importFolder(store, { root })).rejects.toThrow(/no dataset layout found/);
    await expect(importFolder(store, { root: 'relative/path' })).rejects.toThrow(/absolute/);
    expect(rows(store)).toHaveLength(0);
    store.close();
  });
});

describe('a broken tree', () => {
  it('reports every problem with examples; unusable images skipped, the rest flagged', async () => {
    const root = await tmp();
    const whole = png(9000, 32, 32);
    const shared = png(9001);
    await writeTree(root, {
      ...scenarioFiles('metal_welding', ['weld_pit'], { seed: 600 }),
      'metal_welding/train/good/zero.png': new Uint8Array(),
      'metal_welding/train/good/notes.txt': 'not an image',
      'metal_welding/train/good/fake.png': 'GIF89a definitely not a png',
      'metal_welding/train/good/truncated.png': whole.subarray(0, whole.length - 30),
      'metal_welding/train/good/truncated.jpg': (await jpeg(5)).subarray(0, 200),
      'metal_welding/train/good/corrupt.png': Uint8Array.from([...whole.subarray(0, 12), 0, 0, 0, 0, ...whole.subarray(16)]),
      // leak: the same bytes in train and test
      'metal_welding/train/good/leak-a.png': shared,
      'metal_welding/test/good/leak-b.png': shared,
      // duplicates within train
      'metal_welding/train/good/dup-1.png': png(9002),
      'metal_welding/train/good/dup-2.png': png(9002),
      // defect image without mask, and one whose mask has another size
      'metal_welding/test/weld_pit/nomask.png': png(9003),
      'metal_welding/test/weld_pit/bigmask.png': png(9004),
      'metal_welding/ground_truth/weld_pit/bigmask_mask.png': maskPng(32, 32),
      // mask without an image, and a corrupt mask
      'metal_welding/ground_truth/weld_pit/ghost_mask.png': maskPng(),
      'metal_welding/test/weld_pit/badmask.png': png(9005),
      'metal_welding/ground_truth/weld_pit/badmask_mask.png': 'garbage',
      // a folder that the walk cannot read, and one outside the layout
      'metal_welding/test/locked/x.png': png(9006),
      'metal_welding/extras/y.png': png(9007),
    });
    // A symbolic link loop: a folder linking back to the scenario folder.
    await symlink(join(root, 'metal_welding'), join(root, 'metal_welding/test/good/loop'));
    await symlink(join(root, 'metal_welding/test/weld_pit/self'), join(root, 'metal_welding/test/weld_pit/self'));
    // Running as root, permissions do not stop readdir: the walk's fs facade fails that folder.
    const fs: WalkFs = {
      ...nodeWalkFs,
      readdir: async (path) => {
        if (path.endsWith('/test/locked')) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
        return nodeWalkFs.readdir(path);
      },
    };
    const store = await freshStore();
    const { report, datasetId } = await importFolder(store, { root }, { fs });
    const kinds = Object.fromEntries(report.problems.map((g) => [g.kind, g.examples.map((e) => e.path)]));
    expect(kinds).toEqual({
      'zero-byte': ['metal_welding/train/good/zero.png'],
      'not-image': ['metal_welding/train/good/fake.png', 'metal_welding/train/good/notes.txt'],
      'corrupt-image': ['metal_welding/train/good/corrupt.png'],
      'truncated-image': ['metal_welding/train/good/truncated.jpg', 'metal_welding/train/good/truncated.png'],
      'mask-missing': ['metal_welding/test/weld_pit/nomask.png'],
      'mask-size-mismatch': ['metal_welding/ground_truth/weld_pit/bigmask_mask.png'],
      'mask-unreadable': ['metal_welding/ground_truth/weld_pit/badmask_mask.png'],
      'mask-orphan': ['metal_welding/ground_truth/weld_pit/ghost_mask.png'],
      leak: ['metal_welding/test/good/leak-b.png', 'metal_welding/train/good/leak-a.png'],
      duplicate: ['metal_welding/train/good/dup-1.png', 'metal_welding/train/good/dup-2.png'],
      'unreadable-folder': ['metal_welding/test/locked'],
      'symlink-loop': ['metal_welding/test/good/loop', 'metal_welding/test/weld_pit/self'],
      'unexpected-entry': ['metal_welding/extras'],
    });
    expect(problem(report, 'mask-size-mismatch')!.examples[0]!.detail).toBe('mask 32×32, image 16×16');
    expect(problem(report, 'leak')!.examples[0]!.detail).toBe('same content as metal_welding/train/good/leak-a.png');

    // Skipped: not rows. Flagged: rows with issues, which the Library's "problems" facet reads.
    const byPath = new Map(rows(store).map((r) => [r.rel_path as string, r]));
    for (const skipped of ['zero.png', 'fake.png', 'truncated.png', 'truncated.jpg', 'corrupt.png']) expect(byPath.has(`metal_welding/train/good/${skipped}`)).toBe(false);
    expect(JSON.parse(byPath.get('metal_welding/test/good/leak-b.png')!.issues as string)).toEqual(['leak']);
    expect(JSON.parse(byPath.get('metal_welding/train/good/dup-1.png')!.issues as string)).toEqual(['duplicate']);
    expect(JSON.parse(byPath.get('metal_welding/test/weld_pit/nomask.png')!.issues as string)).toEqual(['mask-missing']);
    expect(byPath.get('metal_welding/test/weld_pit/bigmask.png')).toMatchObject({ mask_rel_path: 'metal_welding/ground_truth/weld_pit/bigmask_mask.png', issues: '["mask-size-mismatch"]' });
    expect(byPath.get('metal_welding/test/weld_pit/badmask.png')).toMatchObject({ mask_rel_path: null, issues: '["mask-unreadable"]' });
    expect(report.totals.skipped).toBe(5);
    expect(report.scenarios[0]!.skipped).toBe(5);
    expect(new ImportRepo(store).listReports(datasetId)[0]!.problems).toBe(report.problems.reduce((n, g) => n + g.count, 0));
    store.close();
  });
});

describe('rescan', () => {
  it('applies only what changed: added, removed, modified, touched files; ids of kept rows stay', async () => {
    const root = await tmp();
    await writeTree(root, scenarioFiles('witness_mark', ['looseness'], { seed: 700, train: 4 }));
    const store = await freshStore();
    const { datasetId } = await importFolder(store, { root });
    const before = new Map(rows(store).map((r) => [r.rel_path as string, r]));

    const same = await rescanDataset(store, { datasetId });
    expect(same.report.changes).toEqual({ added: 0, removed: 0, modified: 0, touched: 0, unchanged: 8, relabelled: 0 });

    await writeFile(join(root, 'witness_mark/train/good/new.png'), png(7777));
    await rm(join(root, 'witness_mark/train/good/000.png'));
    await writeFile(join(root, 'witness_mark/train/good/001.png'), png(7778)); // new content
    const later = new Date(Date.now() + 60_000);
    await utimes(join(root, 'witness_mark/train/good/002.png'), later, later); // same bytes, new mtime
    await rm(join(root, 'witness_mark/ground_truth/looseness/000_mask.png')); // its image loses its mask

    const { report } = await rescanDataset(store, { datasetId });
    expect(report.kind).toBe('rescan');
    expect(report.changes).toEqual({ added: 1, removed: 1, modified: 1, touched: 1, unchanged: 5, relabelled: 1 });
    expect(problem(report, 'mask-missing')!.examples).toEqual([{ path: 'witness_mark/test/looseness/000.png' }]);
    const after = new Map(rows(store).map((r) => [r.rel_path as string, r]));
    expect(after.has('witness_mark/train/good/000.png')).toBe(false);
    expect(after.get('witness_mark/train/good/new.png')).toBeDefined();
    expect(after.get('witness_mark/train/good/001.png')!.id).toBe(before.get('witness_mark/train/good/001.png')!.id);
    expect(after.get('witness_mark/train/good/001.png')!.content_hash).not.toBe(before.get('witness_mark/train/good/001.png')!.content_hash);
    expect(after.get('witness_mark/test/looseness/000.png')).toMatchObject({ mask_rel_path: null, issues: '["mask-missing"]' });
    expect(new ImportRepo(store).listReports(datasetId).map((e) => e.kind)).toEqual(['rescan', 'rescan', 'import']);
    store.close();
  });

  it('reads only the masks that changed: unchanged masks keep their facts, a changed one is read and judged again', async () => {
    const root = await tmp();
    await writeTree(root, scenarioFiles('witness_mark', ['looseness'], { seed: 900, perDefect: 3 }));
    const store = await freshStore();
    const { datasetId } = await importFolder(store, { root });
    // Count the files a rescan reads (a stat is not a read).
    let read: string[] = [];
    const makeReader = () => {
      const inner = createInThreadReader();
      return {
        description: inner.description,
        close: () => inner.close(),
        stat: (paths: readonly string[]) => inner.stat(paths),
        read: async (batch: Parameters<typeof inner.read>[0]) => {
          read.push(...batch.map((r) => r.path.slice(root.length + 1)));
          return inner.read(batch);
        },
      };
    };

    const same = await rescanDataset(store, { datasetId }, { makeReader });
    expect(read).toEqual([]);
    expect(same.report.changes).toMatchObject({ modified: 0, touched: 0, relabelled: 0 });

    // A mask replaced by one of another size: read again, counted as a change, and its sample flagged.
    await writeFile(join(root, 'witness_mark/ground_truth/looseness/001_mask.png'), maskPng(8, 8));
    const later = new Date(Date.now() + 60_000);
    await utimes(join(root, 'witness_mark/ground_truth/looseness/001_mask.png'), later, later);
    const changed = await rescanDataset(store, { datasetId }, { makeReader });
    expect(read).toEqual(['witness_mark/ground_truth/looseness/001_mask.png']);
    expect(changed.report.changes).toMatchObject({ modified: 1, touched: 0, relabelled: 0 });
    expect(problem(changed.report, 'mask-size-mismatch')!.examples.map((e) => e.path)).toEqual(['witness_mark/ground_truth/looseness/001_mask.png']);
    expect(rows(store).find((r) => r.rel_path === 'witness_mark/test/looseness/001.png')).toMatchObject({ issues: '["mask-size-mismatch"]' });

    // A mask of the wrong size is read on every rescan (its own size is not kept), and stays flagged.
    read = [];
    const again = await rescanDataset(store, { datasetId }, { makeReader });
    expect(read).toEqual(['witness_mark/ground_truth/looseness/001_mask.png']);
    expect(again.report.changes).toMatchObject({ modified: 0, relabelled: 0 });
    expect(problem(again.report, 'mask-size-mismatch')).toBeDefined();
    store.close();
  });

  for (const [name, makeReader] of [['worker pool', () => createWorkerReader(2)], ['in-thread reader', createInThreadReader]] as const) {
    it(`${name}: the stat pass finds an added, a removed, a same-size rewritten image and a same-size rewritten mask`, async () => {
      const root = await tmp();
      // Stored deflate (level 0): a PNG's length depends only on its size, so a rewrite keeps the file size.
      const stored = (seed: number, channels: 1 | 3) => encodePng(Uint8Array.from({ length: 16 * 16 * channels }, (_, i) => (i * 29 + seed) & 0xff), 16, 16, channels, { level: 0 });
      await writeTree(root, {
        ...scenarioFiles('witness_mark', ['looseness'], { seed: 1400 }),
        'witness_mark/train/good/001.png': stored(1, 3),
        'witness_mark/ground_truth/looseness/000_mask.png': stored(2, 1),
      });
      const store = await freshStore();
      const { datasetId } = await importFolder(store, { root }, { makeReader });
      const before = new Map(rows(store).map((r) => [r.rel_path as string, r]));

      const image = join(root, 'witness_mark/train/good/001.png');
      const mask = join(root, 'witness_mark/ground_truth/looseness/000_mask.png');
      const [newImage, newMask] = [stored(101, 3), stored(102, 1)];
      expect([newImage.length, newMask.length]).toEqual([(await readFile(image)).length, (await readFile(mask)).length]);
      await writeFile(image, newImage);
      await writeFile(mask, newMask);
      // A new mtime, whatever the file system's timestamp granularity.
      const later = new Date(Date.now() + 60_000);
      await utimes(image, later, later);
      await utimes(mask, later, later);
      await writeFile(join(root, 'witness_mark/train/good/new.png'), png(1450));
      await rm(join(root, 'witness_mark/train/good/000.png'));

      const { report } = await rescanDataset(store, { datasetId }, { makeReader });
      expect(report.changes).toEqual({ added: 1, removed: 1, modified: 2, touched: 0, unchanged: 4, relabelled: 0 });
      const after = new Map(rows(store).map((r) => [r.rel_path as string, r]));
      expect(after.get('witness_mark/train/good/001.png')!.content_hash).not.toBe(before.get('witness_mark/train/good/001.png')!.content_hash);
      expect(after.get('witness_mark/test/looseness/000.png')!.mask_mtime_ms).toBe(Math.floor((await stat(mask)).mtimeMs));
      expect(after.has('witness_mark/train/good/new.png')).toBe(true);
      expect(after.has('witness_mark/train/good/000.png')).toBe(false);
      store.close();
    });
  }

  it('both readers stat alike: size and whole-ms mtime of a file, NaN for a folder and a missing path', async () => {
    const root = await writeTree(await tmp(), { 'a.png': png(1500) });
    const paths = [join(root, 'a.png'), root, join(root, 'missing.png')];
    const info = await stat(paths[0]!);
    for (const reader of [createWorkerReader(2), createInThreadReader()]) {
      try {
        expect([...(await reader.stat(paths))]).toEqual([info.size, Math.floor(info.mtimeMs), NaN, NaN, NaN, NaN]);
      } finally {
        await reader.close();
      }
    }
  });

  it('a new unmapped folder blocks the rescan until mapped; the user mapping is kept', async () => {
    const root = await tmp();
    await writeTree(root, scenarioFiles('nut_and_bolt', ['missing'], { seed: 800 }));
    const store = await freshStore();
    const { datasetId } = await importFolder(store, { root, mapping: { 'nut_and_bolt/missing': 'bolt_miss' } });
    await writeTree(root, scenarioFiles('nut_and_bolt', ['gone'], { seed: 900, train: 0, good: 0 }));
    await expect(rescanDataset(store, { datasetId })).rejects.toThrow(/nut_and_bolt\/gone/);
    const { report } = await rescanDataset(store, { datasetId, mapping: { 'nut_and_bolt/gone': 'nut_miss' } });
    expect(report.scenarios[0]!.test).toEqual({ good: 2, bolt_miss: 2, nut_miss: 2 });
    expect(report.changes!.added).toBe(2);
    store.close();
  });
});

describe('all or nothing', () => {
  it('an import that fails mid-way changes nothing', async () => {
    const root = await tmp();
    await writeTree(root, scenarioFiles('wind_turbine', ['crack'], { seed: 1000, train: 10 }));
    const store = await freshStore();
    await expect(
      importFolder(store, { root }, {
        onRowWritten: (n) => {
          if (n === 7) throw new Error('disk full (simulated)');
        },
      }),
    ).rejects.toThrow(/disk full/);
    const count = (table: string) => (store.connection.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect([count('datasets'), count('samples'), count('import_reports')]).toEqual([0, 0, 0]);
    // And the same import then succeeds.
    await importFolder(store, { root });
    expect(count('samples')).toBe(14);
    store.close();
  });

  it('a rescan that fails mid-way changes nothing', async () => {
    const root = await tmp();
    await writeTree(root, scenarioFiles('wind_turbine', ['crack'], { seed: 1100, train: 5 }));
    const store = await freshStore();
    const { datasetId } = await importFolder(store, { root });
    const before = rows(store);
    await mkdir(join(root, 'wind_turbine/train/good/more'), { recursive: true }).catch(() => undefined);
    for (let i = 0; i < 5; i++) await writeFile(join(root, `wind_turbine/train/good/extra-${i}.png`), png(1200 + i));
    await rm(join(root, 'wind_turbine/train/good/000.png'));
    await expect(rescanDataset(store, { datasetId }, { onRowWritten: (n) => { if (n === 3) throw new Error('boom'); } })).rejects.toThrow(/boom/);
    expect(rows(store)).toEqual(before);
    expect(new ImportRepo(store).listReports(datasetId)).toHaveLength(1);
    store.close();
  });

  it('the in-thread reader gives the same rows as the worker pool', async () => {
    const root = await tmp();
    await writeTree(root, scenarioFiles('electrical_insulator', ['crack'], { seed: 1300 }));
    const a = await freshStore();
    const b = await freshStore();
    await importFolder(a, { root });
    await importFolder(b, { root }, { makeReader: createInThreadReader });
    const strip = (s: Store) => rows(s).map(({ id: _id, ...r }) => r);
    expect(strip(b)).toEqual(strip(a));
    a.close();
    b.close();
  });
});
