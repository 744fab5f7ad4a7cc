/**
 * `miad-lab export-dataset`: the curated dataset written in MIAD layout, then imported again by
 * the importer into a fresh workspace, where labels, defect types and masks are the annotated ones.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../../src/main/cli/main';
import { VERBS } from '../../src/main/cli/verbs/index';
import { importFolder } from '../../src/main/core/datasets/import/importer';
import { decodePng } from '../../src/main/core/image/png';
import { Store } from '../../src/main/core/store/store';
import type { ExportManifest } from '../../src/main/core/annotate/export-dataset';
import { useTmpDirs } from '../helpers/tmp';
import { applyCurationEdits, openSmallWorkspace } from './helpers';
import { capture } from '../helpers/cli';

const tmp = useTmpDirs();

describe('export-dataset', () => {
  it('writes the annotated dataset in MIAD layout that imports back with the same labels and masks', async () => {
    const root = await tmp();
    const { host, dir, id } = await openSmallWorkspace(root);
    const weldGood = await applyCurationEdits(host, id);
    await host.close();

    const out = join(root, 'curated');
    const c = capture();
    expect(await runCli(['export-dataset', '--workspace', dir, '--out', out, '--json'], c.io, VERBS), c.err.join('')).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as ExportManifest;
    expect(manifest.skipped.map((s) => s.reason).sort()).toEqual(['excluded-from-training', 'rejected']);
    expect(manifest.counts).toEqual({
      metal_welding: { 'test/weld_beading': 1, 'test/good': 1 },
      bottle: { 'test/broken_large': 1 },
    });
    const edited = manifest.files.find((f) => f.sampleId === weldGood)!;
    expect(edited).toMatchObject({ path: 'metal_welding/test/weld_beading/000.png', mask: 'metal_welding/ground_truth/weld_beading/000_mask.png', maskSource: 'edited' });

    // A second export into the same folder is refused (exit 2), writing nothing.
    const again = capture();
    expect(await runCli(['export-dataset', '--workspace', dir, '--out', out], again.io, VERBS)).toBe(2);
    expect(again.err.join('')).toMatch(/not empty/);

    const store = Store.open(await tmp());
    try {
      const result = await importFolder(store, { root: out });
      expect(result).toBeTruthy();
      const rows = store.connection.prepare('SELECT scenario, split, label, mask_rel_path FROM samples ORDER BY scenario, label').all() as { scenario: string; split: string; label: string; mask_rel_path: string | null }[];
      expect(rows.map((r) => `${r.scenario}/${r.split}/${r.label}`)).toEqual(['bottle/test/broken_large', 'metal_welding/test/good', 'metal_welding/test/weld_beading']);
      const beading = rows.find((r) => r.label === 'weld_beading')!;
      expect(beading.mask_rel_path).not.toBeNull();
      const mask = decodePng(await readFile(join(out, beading.mask_rel_path!)));
      expect([...mask.data].map((v, i) => (v ? i : -1)).filter((i) => i >= 0)).toEqual([3, 4, 11]);
    } finally {
      store.close();
    }
  });
});
