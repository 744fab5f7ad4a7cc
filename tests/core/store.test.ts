import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { Store } from '../../src/main/core/store/store';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/main/core/store/migrations';
import { openWorkspace } from '../../src/main/core/workspace/workspace';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
const fixed = () => new Date('2026-01-02T03:04:05.000Z');

describe('workspace store', () => {
  it('creates a WAL database at the latest schema version, with the workspace folders', async () => {
    const dir = join(await tmp(), 'ws');
    const ws = await openWorkspace(dir, { create: true, now: fixed });
    expect(ws.store.schemaVersion).toBe(SCHEMA_VERSION);
    expect(ws.store.getMeta('created_at')).toBe('2026-01-02T03:04:05.000Z');
    ws.store.close();
    const db = new Database(join(dir, 'lab.sqlite'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    expect((await readdir(dir)).sort()).toEqual(expect.arrayContaining(['datasets', 'lab.sqlite', 'runs', 'thumbs', 'weights']));
  });

  it('adds a dataset and its samples in one transaction: a bad row leaves nothing behind', async () => {
    const dir = await tmp();
    const store = Store.open(dir, { now: fixed });
    const sample = { scenario: 'wind_turbine', split: 'train' as const, label: 'good', relPath: 'a.png', maskRelPath: null, width: 8, height: 8 };
    // The second row repeats the relative path: UNIQUE fails mid-way.
    expect(() => store.addDataset({ name: 'd', root: dir, kind: 'folder' }, [sample, sample])).toThrow(/UNIQUE/);
    expect(store.listDatasets()).toEqual([]);
    expect(store.sampleCount()).toBe(0);
    const id = store.addDataset({ name: 'd', root: dir, kind: 'folder' }, [
      sample,
      { ...sample, split: 'test', relPath: 'b.png' },
      { ...sample, split: 'test', label: 'crack', relPath: 'c.png', maskRelPath: 'c_mask.png' },
    ]);
    const [counts] = store.scenarioCounts(id);
    expect(counts).toMatchObject({ scenario: 'wind_turbine', miadScenario: 'wind_turbine', trainGood: 1, testGood: 1, testDefects: { crack: 1 }, masks: 1, width: 8, height: 8 });
    const page = store.listSamples({ datasetId: id, split: 'test', offset: 0, limit: 1 });
    expect(page.total).toBe(2);
    expect(page.samples).toHaveLength(1);
    expect(page.samples[0]!.path).toBe(join(dir, page.samples[0]!.relPath));
    store.close();
  });

  it('refuses a workspace written by a newer schema, without writing to it', async () => {
    const dir = await tmp();
    const db = new Database(join(dir, 'lab.sqlite'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    const before = (await readdir(dir)).sort();
    await expect(openWorkspace(dir)).rejects.toThrow(/newer MIAD Lab \(schema version \d+; this version understands up to \d+\)/);
    expect((await readdir(dir)).sort()).toEqual(before);
  });

  it('refuses a file, a non-empty foreign folder, a missing folder without create, and a relative path', async () => {
    const dir = await tmp();
    await writeFile(join(dir, 'file.txt'), 'x');
    await expect(openWorkspace(join(dir, 'file.txt'), { create: true })).rejects.toThrow(/is a file, not a folder/);
    await expect(openWorkspace(dir, { create: true })).rejects.toThrow(/is not empty and holds no MIAD Lab workspace/);
    await expect(openWorkspace(join(dir, 'nope'))).rejects.toThrow(/no MIAD Lab workspace at/);
    expect(existsSync(join(dir, 'nope'))).toBe(false);
    await expect(openWorkspace('relative/ws', { create: true })).rejects.toThrow(/must be absolute/);
    // An unwritable place (procfs refuses even root) is named in the message.
    await expect(openWorkspace('/proc/miad-lab-test-ws', { create: true })).rejects.toThrow(/cannot create the workspace folder \/proc\/miad-lab-test-ws/);
    expect(existsSync(join(dir, 'lab.sqlite'))).toBe(false);
  });

  it('reopens an existing workspace with its data', async () => {
    const dir = join(await tmp(), 'ws');
    const first = await openWorkspace(dir, { create: true });
    first.store.addDataset({ name: 'd', root: dir, kind: 'folder' }, []);
    first.store.close();
    const again = await openWorkspace(dir);
    expect(again.store.listDatasets().map((d) => d.name)).toEqual(['d']);
    again.store.close();
  });

  it('upgrades a version-1 database step by step, keeping its rows', async () => {
    const dir = await tmp();
    const db = new Database(join(dir, 'lab.sqlite'));
    db.exec(MIGRATIONS[0]!.sql);
    db.pragma('user_version = 1');
    db.prepare("INSERT INTO datasets (name, root, kind, created_at) VALUES ('old', '/data', 'mvtec', 'then')").run();
    db.close();
    const store = Store.open(dir);
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    expect(store.listDatasets().map((d) => d.name)).toEqual(['old']);
    const columns = (store.connection.prepare('PRAGMA table_info(samples)').all() as { name: string }[]).map((c) => c.name);
    expect(columns).toEqual(expect.arrayContaining(['content_hash', 'issues', 'file_size']));
    store.close();
  });
});
