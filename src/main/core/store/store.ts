/**
 * The workspace store: one SQLite file (`lab.sqlite`, WAL) per workspace. The only module that
 * imports better-sqlite3. The main process is the single writer; every multi-row write runs in a
 * transaction, so a killed process leaves either all of it or none.
 */
import Database from 'better-sqlite3';
import { LabError } from '../../../shared/errors';
import type { DatasetInfo, SampleInfo, ScenarioCounts, Split } from '../../../shared/types';
import { isScenario } from '../../../shared/taxonomy';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations';
import { join } from 'node:path';

export const DB_FILE = 'lab.sqlite';

/**
 * The compiled better-sqlite3 addon to load. Node (CLI, server, tests) uses the package's own
 * build; the Electron main process needs one built for Electron's ABI, which
 * scripts/electron-sqlite.mjs puts beside it at install time, and the desktop entry names here.
 */
let nativeBinding: string | undefined;

export function configureSqlite(options: { nativeBinding?: string | undefined }): void {
  nativeBinding = options.nativeBinding;
}

function openDatabase(path: string, options: Database.Options = {}): Database.Database {
  return new Database(path, nativeBinding ? { ...options, nativeBinding } : options);
}

export interface NewSample {
  scenario: string;
  split: Split;
  label: string;
  relPath: string;
  maskRelPath: string | null;
  width: number;
  height: number;
}

export interface SampleQuery {
  datasetId: number;
  scenario?: string | undefined;
  split?: Split | undefined;
  label?: string | undefined;
  offset: number;
  limit: number;
}

interface DatasetRow {
  id: number;
  name: string;
  root: string;
  kind: DatasetInfo['kind'];
  created_at: string;
  sample_count: number;
  scenarios: string | null;
}

interface SampleRow {
  id: number;
  dataset_id: number;
  scenario: string;
  split: Split;
  label: string;
  rel_path: string;
  mask_rel_path: string | null;
  width: number;
  height: number;
  root: string;
}

export interface StoreOptions {
  /** Clock for created_at stamps; tests pass a fixed one. */
  now?: () => Date;
}

export class Store {
  private readonly db: Database.Database;
  private readonly now: () => Date;

  private constructor(db: Database.Database, now: () => Date) {
    this.db = db;
    this.now = now;
  }

  /**
   * Opens (or creates) the database in `dir`. Refuses a database written by a newer schema
   * without touching it.
   */
  static open(dir: string, options: StoreOptions = {}): Store {
    const path = join(dir, DB_FILE);
    let db: Database.Database;
    try {
      db = openDatabase(path);
    } catch (error) {
      const message = (error as Error).message;
      const hint = /NODE_MODULE_VERSION/.test(message) ? ' (better-sqlite3 was built for another runtime: run `npm run rebuild:electron`)' : '';
      throw new LabError(`cannot open the workspace database ${path}: ${message}${hint}`);
    }
    try {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new LabError(
          `the workspace ${dir} was created by a newer MIAD Lab (schema version ${version}; this version understands up to ${SCHEMA_VERSION}). Update MIAD Lab to open it.`,
          'ConflictError',
        );
      }
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      const store = new Store(db, options.now ?? (() => new Date()));
      store.migrate(version);
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** The schema version of the database in `dir`, read without writing anything. */
  static peekSchemaVersion(dir: string): number {
    const path = join(dir, DB_FILE);
    try {
      const db = openDatabase(path, { readonly: true, fileMustExist: true });
      try {
        return db.pragma('user_version', { simple: true }) as number;
      } finally {
        db.close();
      }
    } catch (error) {
      throw new LabError(`${path} is not a readable MIAD Lab database: ${(error as Error).message}`);
    }
  }

  private migrate(from: number): void {
    for (const migration of MIGRATIONS) {
      if (migration.version <= from) continue;
      this.db.transaction(() => {
        this.db.exec(migration.sql);
        this.db.pragma(`user_version = ${migration.version}`);
      })();
    }
    if (from === 0) this.setMeta('created_at', this.now().toISOString());
  }

  /**
   * The connection, for the repository modules of this folder (store/*-repo.ts) only: they keep
   * their SQL beside their domain while better-sqlite3 stays inside src/main/core/store.
   */
  get connection(): Database.Database {
    return this.db;
  }

  /** Runs `fn` in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  nowIso(): string {
    return this.now().toISOString();
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  getMeta(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Registers a dataset and all its samples in one transaction; returns the dataset id. */
  addDataset(dataset: { name: string; root: string; kind: DatasetInfo['kind'] }, samples: readonly NewSample[]): number {
    const insertDataset = this.db.prepare('INSERT INTO datasets (name, root, kind, created_at) VALUES (?, ?, ?, ?)');
    const insertSample = this.db.prepare(
      'INSERT INTO samples (dataset_id, scenario, split, label, rel_path, mask_rel_path, width, height) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    return this.db.transaction(() => {
      const id = Number(insertDataset.run(dataset.name, dataset.root, dataset.kind, this.now().toISOString()).lastInsertRowid);
      for (const s of samples) {
        insertSample.run(id, s.scenario, s.split, s.label, s.relPath, s.maskRelPath, s.width, s.height);
      }
      return id;
    })();
  }

  listDatasets(): DatasetInfo[] {
    const rows = this.db
      .prepare(
        `SELECT d.*, COUNT(s.id) AS sample_count, GROUP_CONCAT(DISTINCT s.scenario) AS scenarios
         FROM datasets d LEFT JOIN samples s ON s.dataset_id = d.id
         GROUP BY d.id ORDER BY d.id`,
      )
      .all() as DatasetRow[];
    return rows.map(toDatasetInfo);
  }

  getDataset(id: number): DatasetInfo {
    const row = this.db
      .prepare(
        `SELECT d.*, COUNT(s.id) AS sample_count, GROUP_CONCAT(DISTINCT s.scenario) AS scenarios
         FROM datasets d LEFT JOIN samples s ON s.dataset_id = d.id
         WHERE d.id = ? GROUP BY d.id`,
      )
      .get(id) as DatasetRow | undefined;
    if (!row) throw new LabError(`no dataset with id ${id} in this workspace`, 'NotFoundError');
    return toDatasetInfo(row);
  }

  datasetRoots(): string[] {
    return (this.db.prepare('SELECT DISTINCT root FROM datasets').all() as { root: string }[]).map((r) => r.root);
  }

  sampleCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM samples').get() as { n: number }).n;
  }

  /** Per-scenario counts of one dataset: train good, test good, test per defect label, masks. */
  scenarioCounts(datasetId: number): ScenarioCounts[] {
    const rows = this.db
      .prepare(
        `SELECT scenario, split, label, COUNT(*) AS n, SUM(mask_rel_path IS NOT NULL) AS masks,
                MIN(width) AS w0, MAX(width) AS w1, MIN(height) AS h0, MAX(height) AS h1
         FROM samples WHERE dataset_id = ? GROUP BY scenario, split, label ORDER BY scenario, split, label`,
      )
      .all(datasetId) as { scenario: string; split: Split; label: string; n: number; masks: number; w0: number; w1: number; h0: number; h1: number }[];
    const byScenario = new Map<string, ScenarioCounts & { sizes: Set<string> }>();
    for (const r of rows) {
      let c = byScenario.get(r.scenario);
      if (!c) {
        c = {
          scenario: r.scenario,
          miadScenario: isScenario(r.scenario) ? r.scenario : null,
          trainGood: 0,
          testGood: 0,
          testDefects: {},
          masks: 0,
          width: null,
          height: null,
          sizes: new Set(),
        };
        byScenario.set(r.scenario, c);
      }
      if (r.label === 'good') {
        if (r.split === 'train') c.trainGood += r.n;
        else c.testGood += r.n;
      } else if (r.split === 'test') {
        c.testDefects[r.label] = (c.testDefects[r.label] ?? 0) + r.n;
      }
      c.masks += r.masks;
      c.sizes.add(`${r.w0}x${r.h0}`).add(`${r.w1}x${r.h1}`);
    }
    return [...byScenario.values()].map(({ sizes, ...c }) => {
      // A single size is reported; mixed sizes leave width/height null (the UI says "mixed").
      if (sizes.size === 1) {
        const [w, h] = [...sizes][0]!.split('x').map(Number);
        return { ...c, width: w ?? null, height: h ?? null };
      }
      return c;
    });
  }

  listSamples(query: SampleQuery): { total: number; samples: SampleInfo[] } {
    const where = ['s.dataset_id = ?'];
    const params: (string | number)[] = [query.datasetId];
    if (query.scenario !== undefined) {
      where.push('s.scenario = ?');
      params.push(query.scenario);
    }
    if (query.split !== undefined) {
      where.push('s.split = ?');
      params.push(query.split);
    }
    if (query.label !== undefined) {
      where.push('s.label = ?');
      params.push(query.label);
    }
    const clause = where.join(' AND ');
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM samples s WHERE ${clause}`).get(...params) as { n: number }).n;
    const rows = this.db
      .prepare(
        `SELECT s.*, d.root FROM samples s JOIN datasets d ON d.id = s.dataset_id
         WHERE ${clause} ORDER BY s.scenario, s.split, s.label, s.rel_path LIMIT ? OFFSET ?`,
      )
      .all(...params, query.limit, query.offset) as SampleRow[];
    return { total, samples: rows.map(toSampleInfo) };
  }
}

function toDatasetInfo(row: DatasetRow): DatasetInfo {
  return {
    id: row.id,
    name: row.name,
    root: row.root,
    kind: row.kind,
    createdAt: row.created_at,
    sampleCount: row.sample_count,
    scenarios: row.scenarios ? row.scenarios.split(',').sort() : [],
  };
}

function toSampleInfo(row: SampleRow): SampleInfo {
  return {
    id: row.id,
    datasetId: row.dataset_id,
    scenario: row.scenario,
    split: row.split,
    label: row.label,
    relPath: row.rel_path,
    path: join(row.root, row.rel_path),
    maskPath: row.mask_rel_path ? join(row.root, row.mask_rel_path) : null,
    width: row.width,
    height: row.height,
  };
}
