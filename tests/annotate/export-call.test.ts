/**
 * `annotate:exportDataset` through the host, as the desktop menu and the export dialog call it:
 * the same export as the CLI verb (manifest on disk, totals that match it), one scenario only, and
 * the same refusals (a non-empty folder, a relative path, a scenario outside the taxonomy).
 */
import { describe, expect, it } from 'vitest';
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportManifest } from '../../src/main/core/annotate/export-dataset';
import type { ExportSummary } from '../../src/shared/calls/annotate';
import { useTmpDirs } from '../helpers/tmp';
import { applyCurationEdits, openSmallWorkspace } from './helpers';

const tmp = useTmpDirs();

async function manifestAt(path: string): Promise<ExportManifest> {
  return JSON.parse(await readFile(path, 'utf8')) as ExportManifest;
}

describe('annotate:exportDataset', () => {
  it('exports the annotated workspace and returns totals that match the manifest on disk', async () => {
    const root = await tmp();
    const { host, id } = await openSmallWorkspace(root);
    try {
      await applyCurationEdits(host, id);

      const out = join(root, 'curated');
      const summary = (await host.invoke('annotate:exportDataset', { outDir: out })) as ExportSummary;
      expect(summary.manifestPath).toBe(join(out, 'manifest.json'));
      const manifest = await manifestAt(summary.manifestPath);
      expect(summary).toEqual({
        outDir: out,
        manifestPath: join(out, 'manifest.json'),
        scenario: null,
        samples: manifest.files.length,
        masks: 1,
        changedLabels: 2, // weld_pit → good, good → weld_beading
        editedMasks: 1,
        excluded: 2,
        excludedBy: { rejected: 1, 'excluded-from-training': 1, 'anomalous-in-train': 0 },
        counts: manifest.counts,
      });
      expect(summary.samples).toBe(3);
      expect(manifest.counts).toEqual({ metal_welding: { 'test/weld_beading': 1, 'test/good': 1 }, bottle: { 'test/broken_large': 1 } });
      expect((await readdir(out)).sort()).toEqual(['bottle', 'manifest.json', 'metal_welding']);

      // Exporting into the same, now non-empty, folder is refused and leaves it as it was.
      await expect(host.invoke('annotate:exportDataset', { outDir: out })).rejects.toMatchObject({
        name: 'ValidationError',
        message: expect.stringMatching(/is not empty: export into a new or empty folder/),
      });
      expect(await manifestAt(summary.manifestPath)).toEqual(manifest);
    } finally {
      await host.close();
    }
  });

  it('exports one scenario (an MVTec AD category too), and refuses a non-empty folder, a relative path and a scenario the workspace lacks', async () => {
    const root = await tmp();
    const { host } = await openSmallWorkspace(root);
    try {
      const out = join(root, 'welding-only');
      const summary = (await host.invoke('annotate:exportDataset', { outDir: out, scenario: 'metal_welding' })) as ExportSummary;
      expect(summary).toMatchObject({ scenario: 'metal_welding', samples: 2, changedLabels: 0, editedMasks: 0, excluded: 0 });
      expect(Object.keys(summary.counts)).toEqual(['metal_welding']);
      expect((await manifestAt(summary.manifestPath)).scenario).toBe('metal_welding');

      const busy = join(root, 'busy');
      await mkdir(busy);
      await writeFile(join(busy, 'notes.txt'), 'keep me');
      await expect(host.invoke('annotate:exportDataset', { outDir: busy })).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/not empty/) });
      expect(await readdir(busy)).toEqual(['notes.txt']);

      await expect(host.invoke('annotate:exportDataset', { outDir: 'relative/out' })).rejects.toMatchObject({
        name: 'ValidationError',
        message: expect.stringMatching(/absolute path/),
      });
      // A category outside Table A.1 that the workspace holds exports like a MIAD scenario (as `miad-lab export-dataset --scenario` always did).
      expect(await host.invoke('annotate:exportDataset', { outDir: join(root, 'x'), scenario: 'bottle' })).toMatchObject({ scenario: 'bottle', samples: 1 });
      await expect(host.invoke('annotate:exportDataset', { outDir: join(root, 'z'), scenario: 'bridge' })).rejects.toMatchObject({
        name: 'ValidationError',
        message: expect.stringMatching(/no samples of scenario bridge/),
      });
      // A MIAD scenario the workspace has no samples of: the core's own refusal.
      await expect(host.invoke('annotate:exportDataset', { outDir: join(root, 'y'), scenario: 'photovoltaic_module' })).rejects.toMatchObject({
        name: 'ValidationError',
        message: expect.stringMatching(/no samples of scenario photovoltaic_module/),
      });
    } finally {
      await host.close();
    }
  });
});
