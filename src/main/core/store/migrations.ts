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
  {
    version: 2,
    description: 'import: file facts and problems per sample, folder mapping per dataset, import reports',
    sql: `
      ALTER TABLE datasets ADD COLUMN layout TEXT;             -- JSON: detected layout and folder-to-type mapping
      ALTER TABLE datasets ADD COLUMN scanned_at TEXT;
      ALTER TABLE samples ADD COLUMN format TEXT;              -- png | jpeg
      ALTER TABLE samples ADD COLUMN file_size INTEGER;
      ALTER TABLE samples ADD COLUMN mtime_ms INTEGER;
      ALTER TABLE samples ADD COLUMN content_hash TEXT;        -- sha256 of the file bytes, hex
      ALTER TABLE samples ADD COLUMN issues TEXT;              -- JSON array of problem codes; NULL when none
      ALTER TABLE samples ADD COLUMN source_folder TEXT;       -- the defect folder name as found on disk
      CREATE INDEX samples_by_hash ON samples (content_hash);
      CREATE TABLE import_reports (
        id         INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        kind       TEXT NOT NULL CHECK (kind IN ('import', 'rescan')),
        created_at TEXT NOT NULL,
        report     TEXT NOT NULL                               -- JSON ImportReport
      );
      CREATE INDEX import_reports_by_dataset ON import_reports (dataset_id, id);
    `,
  },
  {
    version: 3,
    description: 'runs: our own and external ones, with metrics, curves, predictions and series',
    sql: `
      CREATE TABLE runs (
        id           INTEGER PRIMARY KEY,
        name         TEXT NOT NULL,
        kind         TEXT NOT NULL CHECK (kind IN ('internal', 'external')),
        method       TEXT NOT NULL,                            -- registry name, or the tool's name for external runs
        scenarios    TEXT NOT NULL,                            -- JSON array
        dataset_id   INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
        dataset_root TEXT,
        config       TEXT NOT NULL,                            -- JSON: the full resolved config
        backend      TEXT,
        device       TEXT,
        weights      TEXT,                                     -- weights id, or 'random'
        random_init  INTEGER NOT NULL DEFAULT 0,
        status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        error        TEXT,
        created_at   TEXT NOT NULL,
        started_at   TEXT,
        finished_at  TEXT,
        tags         TEXT NOT NULL DEFAULT '[]',
        notes        TEXT NOT NULL DEFAULT ''
      );
      CREATE TABLE run_metrics (
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        scenario    TEXT NOT NULL,
        defect_type TEXT NOT NULL DEFAULT '',                  -- '' for the scenario overall
        metric      TEXT NOT NULL,                             -- image_auroc, pixel_auroc, aupro, image_f1_max, ...
        value       REAL,                                      -- NULL when undefined for this scope
        threshold   REAL,
        PRIMARY KEY (run_id, scenario, defect_type, metric)
      );
      CREATE TABLE run_curves (
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        scenario    TEXT NOT NULL,
        defect_type TEXT NOT NULL DEFAULT '',
        curve       TEXT NOT NULL,                             -- image_roc, pixel_roc, image_pr, pixel_pr, pro
        points      TEXT NOT NULL,                             -- JSON {x: number[], y: number[]} down-sampled
        PRIMARY KEY (run_id, scenario, defect_type, curve)
      );
      CREATE TABLE run_predictions (
        run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        scenario  TEXT NOT NULL,
        rel_path  TEXT NOT NULL,                               -- the test image, relative to the scenario folder
        label     TEXT NOT NULL,
        score     REAL NOT NULL,
        map_path  TEXT,                                        -- relative to the run folder
        PRIMARY KEY (run_id, scenario, rel_path)
      );
      CREATE TABLE run_series (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        series TEXT NOT NULL,
        step   INTEGER NOT NULL,
        value  REAL NOT NULL,
        PRIMARY KEY (run_id, series, step)
      );
      CREATE INDEX runs_by_status ON runs (status, created_at);
    `,
  },
  {
    version: 4,
    description: 'jobs: the job kind that produced a run, the backend it asked for, the process that owns it',
    sql: `
      ALTER TABLE runs ADD COLUMN job_kind TEXT;               -- jobs registry name; NULL for external runs
      ALTER TABLE runs ADD COLUMN requested_backend TEXT;      -- a forced tfjs backend; NULL: the best available
      ALTER TABLE runs ADD COLUMN owner_pid INTEGER;           -- the main process that runs it: a live one keeps its runs at startup
    `,
  },
  {
    version: 5,
    description: 'annotation: the workspace label, defect type, review state and mask per sample, with history',
    sql: `
      CREATE TABLE annotations (
        sample_id      INTEGER PRIMARY KEY REFERENCES samples(id) ON DELETE CASCADE,
        label          TEXT NOT NULL CHECK (label IN ('good', 'anomalous')),
        defect_type    TEXT,                                   -- Table A.1 name (folder style); NULL when good or not yet typed
        review_state   TEXT NOT NULL CHECK (review_state IN ('unlabelled', 'labelled', 'reviewed', 'rejected')),
        mask_path      TEXT,                                   -- edited mask, relative to the workspace; NULL: the dataset's own
        exclude_train  INTEGER NOT NULL DEFAULT 0,             -- 1: left out of training sets (e.g. a contaminated train image)
        updated_at     TEXT NOT NULL,
        version        INTEGER NOT NULL
      );
      CREATE TABLE annotation_history (
        id        INTEGER PRIMARY KEY,
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        at        TEXT NOT NULL,
        version   INTEGER NOT NULL,                            -- the annotation version this change produced
        change    TEXT NOT NULL                                -- JSON AnnotationChange
      );
      CREATE INDEX annotation_history_by_sample ON annotation_history (sample_id, id);
    `,
  },
  {
    version: 6,
    description: "library: what changed since the Library's index was built, so an annotation edit updates it in place",
    sql: `
      -- One row per annotation write (the sample whose label, mask, review or training flag moved);
      -- the Library applies them to its index and prunes what it has applied.
      CREATE TABLE library_changes (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        sample_id INTEGER NOT NULL
      );
      CREATE TRIGGER library_annotation_inserted AFTER INSERT ON annotations BEGIN INSERT INTO library_changes (sample_id) VALUES (NEW.sample_id); END;
      CREATE TRIGGER library_annotation_updated AFTER UPDATE ON annotations BEGIN INSERT INTO library_changes (sample_id) VALUES (NEW.sample_id); END;
      CREATE TRIGGER library_annotation_deleted AFTER DELETE ON annotations BEGIN INSERT INTO library_changes (sample_id) VALUES (OLD.sample_id); END;
      -- Any change to the samples themselves (import, rescan, a dataset removed) moves this counter:
      -- the index is then rebuilt from one scan.
      CREATE TABLE library_structure (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        n  INTEGER NOT NULL
      );
      INSERT INTO library_structure (id, n) VALUES (1, 0);
      CREATE TRIGGER library_sample_inserted AFTER INSERT ON samples BEGIN UPDATE library_structure SET n = n + 1; END;
      CREATE TRIGGER library_sample_updated AFTER UPDATE ON samples BEGIN UPDATE library_structure SET n = n + 1; END;
      CREATE TRIGGER library_sample_deleted AFTER DELETE ON samples BEGIN UPDATE library_structure SET n = n + 1; END;
    `,
  },
  {
    version: 7,
    description: "samples: the mask file's size and mtime, so a rescan reads only the masks that changed",
    sql: `
      ALTER TABLE samples ADD COLUMN mask_file_size INTEGER;   -- NULL: no mask, or imported before version 7
      ALTER TABLE samples ADD COLUMN mask_mtime_ms INTEGER;
    `,
  },
  {
    version: 8,
    description: 'benchmarks: a matrix of methods × scenarios × seeds × presets, each cell filled by one run',
    sql: `
      CREATE TABLE benchmarks (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        state      TEXT NOT NULL CHECK (state IN ('created', 'running', 'done', 'cancelled')),
        execution  TEXT NOT NULL,                 -- 'local' (this process's job runner); a queue later
        spec       TEXT NOT NULL,                 -- JSON: methods, scenarios, presets, seeds, overrides, weights, backend
        created_at TEXT NOT NULL
      );
      CREATE TABLE benchmark_cells (
        id           INTEGER PRIMARY KEY,
        benchmark_id INTEGER NOT NULL REFERENCES benchmarks(id) ON DELETE CASCADE,
        position     INTEGER NOT NULL,            -- run order
        method       TEXT NOT NULL,
        scenarios    TEXT NOT NULL,               -- JSON array: one scenario, several for a unified cell
        seed         INTEGER NOT NULL,
        preset       TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('pending', 'queued', 'running', 'done', 'failed', 'cancelled')),
        reason       TEXT,
        run_id       INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        UNIQUE (benchmark_id, method, scenarios, seed, preset)
      );
      CREATE INDEX benchmark_cells_by_benchmark ON benchmark_cells (benchmark_id, position);
      CREATE INDEX benchmark_cells_by_run ON benchmark_cells (run_id);
    `,
  },
  {
    version: 9,
    description: 'training-set checks (issue 19): each k-fold check of a scenario and the score it gave each training image',
    sql: `
      -- One row per finished check; its job's run row holds the full config and log. The shown check
      -- of a (dataset, scenario) is its newest row: a newer check replaces it in every view.
      CREATE TABLE train_checks (
        run_id     INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        scenario   TEXT NOT NULL,
        folds      INTEGER NOT NULL,
        method     TEXT NOT NULL,
        preset     TEXT NOT NULL,
        backbone   TEXT,                                   -- NULL for a method without one
        weights    TEXT,                                   -- 'random' or the weights file
        images     INTEGER NOT NULL,
        checked_at TEXT NOT NULL
      );
      CREATE INDEX train_checks_by_scenario ON train_checks (dataset_id, scenario, checked_at);
      -- The score each image got from the fold's model that never saw it (image score: max of its map).
      CREATE TABLE train_check_scores (
        run_id    INTEGER NOT NULL REFERENCES train_checks(run_id) ON DELETE CASCADE,
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        fold      INTEGER NOT NULL,
        score     REAL NOT NULL,
        PRIMARY KEY (run_id, sample_id)
      );
      CREATE INDEX train_check_scores_by_sample ON train_check_scores (sample_id);
      -- A check written or removed changes the Library's suspicion column: the index is rebuilt once.
      CREATE TRIGGER library_check_inserted AFTER INSERT ON train_checks BEGIN UPDATE library_structure SET n = n + 1; END;
      CREATE TRIGGER library_check_deleted AFTER DELETE ON train_checks BEGIN UPDATE library_structure SET n = n + 1; END;
    `,
  },
  {
    version: 10,
    description: 'runs: a run imported from another workspace (a queue worker) keeps its uid there and the host it ran on',
    sql: `
      ALTER TABLE runs ADD COLUMN remote_uid TEXT;             -- NULL for runs made here; the key that makes an import idempotent
      ALTER TABLE runs ADD COLUMN host TEXT;                   -- the host an imported run ran on; NULL for runs made here
      CREATE UNIQUE INDEX runs_by_remote_uid ON runs (remote_uid);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
