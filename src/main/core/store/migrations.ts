/**
 * Numbered schema migrations of the workspace database. The schema version is SQLite's
 * `user_version`; migration N brings a database from version N-1 to N inside one transaction.
 * Never edit a migration that has shipped: add the next one.
 */

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'workspace meta, datasets, samples',
    sql: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE datasets (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        root       TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('miad-mini', 'miad', 'mvtec', 'folder')),
        created_at TEXT NOT NULL
      );
      CREATE TABLE samples (
        id            INTEGER PRIMARY KEY,
        dataset_id    INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        scenario      TEXT NOT NULL,
        split         TEXT NOT NULL CHECK (split IN ('train', 'test')),
        label         TEXT NOT NULL,
        rel_path      TEXT NOT NULL,
        mask_rel_path TEXT,
        width         INTEGER NOT NULL,
        height        INTEGER NOT NULL,
        UNIQUE (dataset_id, rel_path)
      );
      CREATE INDEX samples_by_facets ON samples (dataset_id, scenario, split, label);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
