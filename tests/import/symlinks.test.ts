/**
 * Issue 20 item 4: one rule for symbolic links, the same for import, rescan and the file doors:
 * a link whose target lies outside the dataset folder is reported and skipped by the importer
 * (nothing behind it is read) and refused by the doors; a link that stays inside is followed.
 */
import { describe, expect, it } from 'vitest';
import { rename, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createLabHost } from '../../src/main/core/lab-host';
import type { ImportResult } from '../../src/shared/calls/import';
import { useTmpDirs } from '../helpers/tmp';
import { png, scenarioFiles, writeTree } from './helpers';

const tmp = useTmpDirs();

async function openHost() {
  const root = await tmp();
  const host = createLabHost({ door: 'server', configDir: join(root, 'config'), defaultWorkspacesDir: join(root, 'workspaces') });
  await host.openWorkspace(join(root, 'ws'), true);
  return host;
}

function samples(host: Awaited<ReturnType<typeof openHost>>, datasetId: number): string[] {
  const rows = host.currentLab()!.store.connection.prepare('SELECT rel_path FROM samples WHERE dataset_id = ? ORDER BY rel_path').all(datasetId) as { rel_path: string }[];
  return rows.map((r) => r.rel_path);
}

describe('symbolic links leaving the dataset folder', () => {
  it('import and rescan report and skip them; links inside the folder are followed', async () => {
    const outside = await writeTree(await tmp(), { 'secret.png': png(8000), 'elsewhere/a.png': png(8001), ...scenarioFiles('electrical_insulator', [], { seed: 8050 }) });
    const root = await writeTree(await tmp(), { ...scenarioFiles('wind_turbine', ['crack'], { seed: 8100 }), 'extra/inside.png': png(8003) });
    await symlink(join(outside, 'secret.png'), join(root, 'wind_turbine/train/good/secret.png'));
    await symlink(join(outside, 'electrical_insulator'), join(root, 'electrical_insulator'));
    await symlink('../../../extra/inside.png', join(root, 'wind_turbine/train/good/inside.png'));
    const host = await openHost();
    const { report, datasetId } = (await host.invoke('import:run', { root })) as ImportResult;
    expect(report.problems.find((g) => g.kind === 'symlink-outside')?.examples).toEqual([
      { path: 'electrical_insulator', detail: `links to ${join(outside, 'electrical_insulator')}, outside the dataset folder` },
      { path: 'wind_turbine/train/good/secret.png', detail: `links to ${join(outside, 'secret.png')}, outside the dataset folder` },
    ]);
    expect(report.scenarios.map((s) => s.scenario)).toEqual(['wind_turbine']);
    const rels = samples(host, datasetId);
    expect(rels).toContain('wind_turbine/train/good/inside.png');
    expect(rels.filter((r) => /secret|electrical_insulator/.test(r))).toEqual([]);

    // A rescan applies the same rule to a link that appeared since.
    await symlink(join(outside, 'elsewhere/a.png'), join(root, 'wind_turbine/train/good/later.png'));
    const again = (await host.invoke('import:rescan', { datasetId })) as ImportResult;
    expect(again.report.problems.find((g) => g.kind === 'symlink-outside')?.examples.map((e) => e.path)).toEqual([
      'electrical_insulator',
      'wind_turbine/train/good/later.png',
      'wind_turbine/train/good/secret.png',
    ]);
    expect(samples(host, datasetId)).toEqual(rels);
    await host.close();
  });

  it('the file doors refuse a sample that became a link out of its own dataset, even into another dataset', async () => {
    const a = await writeTree(await tmp(), scenarioFiles('wind_turbine', ['crack'], { seed: 8200 }));
    const b = await writeTree(await tmp(), scenarioFiles('wind_turbine', ['crack'], { seed: 8300 }));
    const host = await openHost();
    await host.invoke('import:run', { root: a });
    await host.invoke('import:run', { root: b });
    const sample = join(a, 'wind_turbine/train/good/000.png');
    await expect(host.resolveAllowedFile(sample)).resolves.toBe(sample);
    // Swapped for a link after the import: into dataset b, and into the workspace.
    await rename(sample, `${sample}.moved`);
    await symlink(join(b, 'wind_turbine/train/good/000.png'), sample);
    await expect(host.resolveAllowedFile(sample)).rejects.toMatchObject({ name: 'ForbiddenError' });
    const other = join(a, 'wind_turbine/train/good/001.png');
    await rename(other, `${other}.moved`);
    await symlink(join(host.currentLab()!.dir, 'lab.sqlite'), other);
    await expect(host.resolveAllowedFile(other)).rejects.toMatchObject({ name: 'ForbiddenError' });
    // A link that stays inside its dataset is served, by its real path.
    const third = join(a, 'wind_turbine/train/good/002.png');
    await rename(third, join(a, 'wind_turbine/train/good/002-real.png'));
    await symlink('002-real.png', third);
    await expect(host.resolveAllowedFile(third)).resolves.toBe(join(a, 'wind_turbine/train/good/002-real.png'));
    await host.close();
  });
});
