/**
 * Synthetic Library rows at MIAD's proportions (2/3 train good, 1/6 test good, 1/6 test anomalous
 * spread over Table A.1's defect types, masks on anomalous ones, a few problems, some NULL file
 * facts as demo workspaces have), inserted straight into a workspace store. Shared by the unit
 * tests and the benchmarks; seeded, so every run sees the same rows.
 */
import { SCENARIOS, SCENARIO_INFO } from '../../src/shared/taxonomy';
import type { Store } from '../../src/main/core/store/store';

export const PROBLEM_CODES = ['truncated', 'mask_size_mismatch', 'duplicate', 'odd_name'] as const;

/** mulberry32: a small seeded PRNG, enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticOptions {
  count: number;
  seed?: number;
  datasetName?: string;
  root?: string;
  /** Content hashes cycle through these (so thumbnails can be a few real files); default: NULL. */
  hashes?: readonly string[];
}

/** Inserts one dataset with `count` samples in one transaction; returns the dataset id. */
export function insertSynthetic(store: Store, options: SyntheticOptions): number {
  const rand = prng(options.seed ?? 1);
  const db = store.connection;
  const datasetId = Number(
    db.prepare('INSERT INTO datasets (name, root, kind, created_at) VALUES (?, ?, ?, ?)').run(options.datasetName ?? 'synthetic', options.root ?? '/nonexistent/synthetic', 'miad', '2026-01-01T00:00:00.000Z')
      .lastInsertRowid,
  );
  const insert = db.prepare(
    `INSERT INTO samples (dataset_id, scenario, split, label, rel_path, mask_rel_path, width, height, format, file_size, mtime_ms, content_hash, issues, source_folder)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'png', ?, ?, ?, ?, ?)`,
  );
  store.transaction(() => {
    for (let i = 0; i < options.count; i++) {
      const scenario = SCENARIOS[i % SCENARIOS.length]!;
      const r = rand();
      const split = r < 2 / 3 ? 'train' : 'test';
      const anomalous = r >= 5 / 6;
      const defects = SCENARIO_INFO[scenario].defects;
      const label = anomalous ? defects[Math.floor(rand() * defects.length)]! : 'good';
      const folder = `${split}/${label}`;
      const name = `${String(i).padStart(6, '0')}.png`;
      const relPath = `${scenario}/${folder}/${name}`;
      const mask = anomalous && rand() < 0.97 ? `${scenario}/ground_truth/${label}/${name.replace('.png', '_mask.png')}` : null;
      const p = rand();
      const issues = p < 0.02 ? JSON.stringify([PROBLEM_CODES[Math.floor(rand() * PROBLEM_CODES.length)]]) : p < 0.025 ? JSON.stringify(['truncated', 'duplicate']) : null;
      const known = rand() < 0.8;
      const hash = options.hashes && options.hashes.length > 0 ? options.hashes[i % options.hashes.length]! : null;
      insert.run(datasetId, scenario, split, label, relPath, mask, 256, 256, known ? 20_000 + Math.floor(rand() * 80_000) : null, known ? 1_700_000_000_000 + i : null, hash, issues, label);
    }
  });
  return datasetId;
}
