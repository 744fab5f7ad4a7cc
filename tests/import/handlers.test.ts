/** The `import:*` calls through the lab host: validation where they enter, progress events, stored reports. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createLabHost } from '../../src/main/core/lab-host';
import type { ImportProgress, ImportReportEntry, ImportResult, ImportScan } from '../../src/shared/calls/import';
import { useTmpDirs } from '../helpers/tmp';
import { scenarioFiles, writeTree } from './helpers';

const tmp = useTmpDirs();

describe('import calls', () => {
  it('scan, run with a mapping, list and read reports, rescan; events carry the progress', async () => {
    const root = await tmp();
    const host = createLabHost({ door: 'server', configDir: join(root, 'config'), defaultWorkspacesDir: join(root, 'ws') });
    const data = join(root, 'data');
    await writeTree(data, scenarioFiles('photovoltaic_module', ['Broken', 'missing', 'Bird Droppings'], { seed: 3 }));

    // A scan reads the folder only: it answers with no workspace open (miad-lab import checks a folder before making one).
    expect(((await host.invoke('import:scan', { root: data })) as ImportScan).unmapped.map((f) => f.folder)).toEqual(['Bird Droppings']);
    await expect(host.invoke('import:run', { root: data })).rejects.toMatchObject({ name: 'ConflictError', message: /no workspace is open/ });
    await host.invoke('workspaces:open', { dir: join(root, 'ws1'), create: true });
    await expect(host.invoke('import:scan', { root: 42 })).rejects.toMatchObject({ name: 'ValidationError', message: /import:scan: root/ });
    await expect(host.invoke('import:report', {})).rejects.toMatchObject({ name: 'ValidationError', message: /reportId or datasetId/ });

    const events: { event: string; payload: unknown }[] = [];
    host.onEvent((event, payload) => events.push({ event, payload }));
    const scan = (await host.invoke('import:scan', { root: data })) as ImportScan;
    expect(scan.unmapped.map((f) => f.folder)).toEqual(['Bird Droppings']);
    expect(scan.folders.find((f) => f.folder === 'missing')!.target).toBe('miss');

    await expect(host.invoke('import:run', { root: data })).rejects.toMatchObject({ name: 'ValidationError', message: /photovoltaic_module\/Bird Droppings/ });
    await expect(host.invoke('import:run', { root: data, mapping: { 'photovoltaic_module/Bird Droppings': 'weld_pit' } })).rejects.toMatchObject({
      name: 'ValidationError',
      message: /allows only broken, miss, foreign_body/,
    });
    const result = (await host.invoke('import:run', { root: data, name: 'PV', mapping: { 'photovoltaic_module/Bird Droppings': 'foreign_body' } })) as ImportResult;
    expect(result.report.scenarios[0]!.test).toEqual({ good: 2, broken: 2, miss: 2, foreign_body: 2 });
    const progress = events.filter((e) => e.event === 'import:progress').map((e) => e.payload as ImportProgress);
    expect(new Set(progress.map((p) => p.phase))).toEqual(new Set(['scanning', 'hashing', 'writing', 'done']));
    const hashing = progress.filter((p) => p.phase === 'hashing');
    expect(hashing.at(-1)).toEqual({ phase: 'hashing', done: 17, total: 17 }); // 11 images + 6 masks
    const changed = events.filter((e) => e.event === 'workspaces:changed').at(-1)!.payload as { workspace: { sampleCount: number; datasetCount: number } };
    expect(changed.workspace).toMatchObject({ datasetCount: 1, sampleCount: 11 });

    const rescan = (await host.invoke('import:rescan', { datasetId: result.datasetId })) as ImportResult;
    expect(rescan.report.changes!.unchanged).toBe(11);
    const entries = (await host.invoke('import:reports', { datasetId: result.datasetId })) as ImportReportEntry[];
    expect(entries.map((e) => [e.kind, e.samples])).toEqual([['rescan', 11], ['import', 11]]);
    const latest = (await host.invoke('import:report', { datasetId: result.datasetId })) as { entry: ImportReportEntry };
    expect(latest.entry.id).toBe(rescan.reportId);
    await expect(host.invoke('import:report', { reportId: 999 })).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(host.invoke('import:reports', { datasetId: 999 })).rejects.toMatchObject({ name: 'NotFoundError' });
    // The imported root becomes a readable dataset root.
    await expect(host.resolveAllowedFile(join(data, 'photovoltaic_module/train/good/000.png'))).resolves.toContain('000.png');
    await host.close();
  });
});
