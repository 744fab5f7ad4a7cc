/**
 * The rescan of an unchanged tree as of commit c2c080e (before the stat pass), kept only so
 * bench/import.ts can time it in the same run as the current rescan. Not used by the app.
 *
 * Only the unchanged case is kept: each file went through the reading workers as a request with
 * its stored size and mtime (open, fstat, close; an object answered per file, 64 files a message),
 * after the stored rows were loaded on the main thread; a file that changed would have been read
 * and hashed there, which this copy refuses (it throws) rather than carries. The walk, the plan
 * and the store calls are today's (shared with the current rescan), so the ratio counts only
 * what the stat pass and the rows' loading changed.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { mappingKey, type ImportChanges } from '../../src/shared/calls/import';
import { ImportRepo, type StoredLayout, type StoredSample } from '../../src/main/core/store/import-repo';
import type { Store } from '../../src/main/core/store/store';
import { walkDataset } from '../../src/main/core/datasets/import/walk';
import { defectFolders } from '../../src/main/core/datasets/import/mapping';
import { buildPlan, filesToRead, type FileOutcome } from '../../src/main/core/datasets/import/plan';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
parentPort.on('message', ({ id, batch }) => {
  const results = [];
  for (const [path, knownSize, knownMtime] of batch) {
    let fd = -1;
    try {
      fd = fs.openSync(path, 'r');
      const st = fs.fstatSync(fd);
      if (!st.isFile()) { results.push({ status: 'error', code: 'ENOTFILE' }); continue; }
      const mtimeMs = Math.floor(st.mtimeMs);
      if (knownSize === st.size && knownMtime === mtimeMs) { results.push({ status: 'unchanged', size: st.size, mtimeMs }); continue; }
      results.push({ status: 'changed' });
    } catch (error) {
      results.push({ status: 'error', code: (error && error.code) || String(error) });
    } finally {
      if (fd >= 0) try { fs.closeSync(fd); } catch {}
    }
  }
  parentPort.postMessage({ id, results });
});
`;

type Raw = { status: 'unchanged'; size: number; mtimeMs: number } | { status: 'changed' } | { status: 'error'; code: string };

function workerPool(size: number) {
  const workers = Array.from({ length: size }, () => new Worker(WORKER_SOURCE, { eval: true }));
  const pending = workers.map(() => new Map<number, (r: Raw[]) => void>());
  workers.forEach((w, i) => w.on('message', (m: { id: number; results: Raw[] }) => {
    const p = pending[i]!.get(m.id)!;
    pending[i]!.delete(m.id);
    p(m.results);
  }));
  let nextId = 0;
  return {
    read(batch: [string, number, number][]): Promise<Raw[]> {
      let best = 0;
      for (let i = 1; i < workers.length; i++) if (pending[i]!.size < pending[best]!.size) best = i;
      const id = nextId++;
      return new Promise((resolve) => {
        pending[best]!.set(id, resolve);
        workers[best]!.postMessage({ id, batch });
      });
    },
    close: () => Promise.all(workers.map((w) => w.terminate())),
  };
}

interface SampleRow {
  id: number;
  scenario: string;
  split: 'train' | 'test';
  label: string;
  rel_path: string;
  mask_rel_path: string | null;
  mask_file_size: number | null;
  mask_mtime_ms: number | null;
  width: number;
  height: number;
  format: string | null;
  file_size: number | null;
  mtime_ms: number | null;
  content_hash: string | null;
  issues: string | null;
  source_folder: string | null;
}

function samplesV1(store: Store, datasetId: number): StoredSample[] {
  const rows = store.connection
    .prepare('SELECT id, scenario, split, label, rel_path, mask_rel_path, mask_file_size, mask_mtime_ms, width, height, format, file_size, mtime_ms, content_hash, issues, source_folder FROM samples WHERE dataset_id = ?')
    .all(datasetId) as SampleRow[];
  return rows.map((r) => ({
    id: r.id,
    scenario: r.scenario,
    split: r.split,
    label: r.label,
    relPath: r.rel_path,
    maskRelPath: r.mask_rel_path,
    maskFileSize: r.mask_file_size,
    maskMtimeMs: r.mask_mtime_ms,
    width: r.width,
    height: r.height,
    format: (r.format ?? 'png') as 'png' | 'jpeg',
    fileSize: r.file_size ?? -1,
    mtimeMs: r.mtime_ms ?? -1,
    contentHash: r.content_hash ?? '',
    issues: r.issues ? (JSON.parse(r.issues) as StoredSample['issues']) : [],
    sourceFolder: r.source_folder ?? '',
  }));
}

/** The c2c080e rescan of dataset `datasetId` when no file changed; its change counts. */
export async function rescanUnchangedV1(store: Store, datasetId: number, workers = 4): Promise<ImportChanges> {
  const repo = new ImportRepo(store);
  const dataset = repo.getDataset(datasetId);
  const root = dataset.root;
  const walk = await walkDataset(root);
  const folders = defectFolders(walk, dataset.layout?.userMapping ?? {});
  const stored = samplesV1(store, dataset.id);
  const byRel = new Map(stored.map((s) => [s.relPath, s]));
  const toRead = filesToRead(walk, folders);
  const rels = [...toRead.images, ...toRead.masks];
  const knownMasks = new Map<string, StoredSample>();
  for (const k of byRel.values()) if (k.maskRelPath !== null && k.maskFileSize !== null && k.maskMtimeMs !== null) knownMasks.set(k.maskRelPath, k);
  const requests = rels.map((rel, i): [string, number, number] => {
    const k = i >= toRead.images.length ? knownMasks.get(rel) : byRel.get(rel);
    const known = i >= toRead.images.length ? (k ? [k.maskFileSize!, k.maskMtimeMs!] : [-1, -1]) : k ? [k.fileSize, k.mtimeMs] : [-1, -1];
    return [join(root, rel), known[0]!, known[1]!];
  });
  const images = new Map<string, FileOutcome>();
  const masks = new Map<string, FileOutcome>();
  const pool = workerPool(workers);
  try {
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < requests.length) {
        const start = next;
        next = Math.min(requests.length, next + 64);
        const results = await pool.read(requests.slice(start, next));
        for (let i = 0; i < results.length; i++) {
          const raw = results[i]!;
          const index = start + i;
          const rel = rels[index]!;
          if (raw.status !== 'unchanged') throw new Error(`${rel} changed: the c2c080e reference times only an unchanged tree`);
          if (index >= toRead.images.length) {
            const k = knownMasks.get(rel)!;
            masks.set(rel, { ok: true, facts: { size: k.maskFileSize!, mtimeMs: k.maskMtimeMs!, hash: '', format: 'png', width: k.width, height: k.height } });
          } else {
            const k = byRel.get(rel)!;
            images.set(rel, { ok: true, facts: { size: k.fileSize, mtimeMs: k.mtimeMs, hash: k.contentHash, format: k.format, width: k.width, height: k.height } });
          }
          await Promise.resolve();
        }
      }
    }));
  } finally {
    await pool.close();
  }
  const plan = buildPlan(walk, folders, images, masks);
  const changes: ImportChanges = { added: 0, removed: 0, modified: 0, touched: 0, unchanged: 0, relabelled: 0 };
  const keep = new Set<string>();
  for (const row of plan.rows) {
    keep.add(row.relPath);
    if (byRel.has(row.relPath)) changes.unchanged++;
    else changes.added++;
  }
  changes.removed = stored.filter((s) => !keep.has(s.relPath)).length;
  const layout: StoredLayout = {
    version: 1,
    scenarios: walk.scenarios.map((s) => ({ ...s })),
    userMapping: { ...(dataset.layout?.userMapping ?? {}) },
    resolved: Object.fromEntries(folders.map((f) => [mappingKey(f.scenario, f.folder), f.target ?? ''])),
  };
  store.transaction(() => repo.updateDatasetScan(dataset.id, walk.kind, layout, store.nowIso()));
  return changes;
}
