/**
 * The dataset importer: scan a folder (walk only: layout, scenarios, counts, folders to map),
 * import it (read, hash and decode-check every file, build the rows and the report, write them in ONE
 * transaction), and rescan an imported dataset (re-read only files whose size or mtime changed,
 * then write only the rows that differ). An exception anywhere before the commit leaves the
 * workspace as it was.
 *
 * Collaborators come in through `ImportDeps` (progress sink, file-system facade of the walk,
 * file reader, clock, a per-row hook) so tests can pass fakes at the edges.
 */
import { stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve, sep } from 'node:path';
import {
  SKIP,
  mappingKey,
  type FolderMapping,
  type ImportChanges,
  type ImportProgress,
  type ImportReport,
  type ImportResult,
  type ImportScan,
} from '../../../../shared/calls/import';
import { LabError } from '../../../../shared/errors';
import { ImportRepo, type StoredLayout, type StoredSample } from '../../store/import-repo';
import type { Store } from '../../store/store';
import { checkDecodes, limiter } from '../../image/decode-check';
import { checkImageHeader, createDefaultReader, readAll, statAll, type FactReader, type FactRequest } from './file-facts';
import { defectFolders, unmappedError, validateMapping } from './mapping';
import { buildPlan, filesToRead, type FileOutcome, type ImageFacts, type ImportRow } from './plan';
import { walkDataset, type DatasetWalk, type WalkFs } from './walk';

export interface ImportDeps {
  onProgress?: (progress: ImportProgress) => void;
  fs?: WalkFs;
  /** Makes the file reader for one import (default: the worker pool); closed at the end. */
  makeReader?: () => FactReader;
  /** Monotonic clock in ms, for the report's duration. */
  clock?: () => number;
  /** Called after each row written inside the transaction; a throw rolls the whole import back. */
  onRowWritten?: (n: number) => void;
  /**
   * Cancels the import (the workspace is closing): checked as each folder is listed and each file
   * read, and last just before the one transaction, so a cancelled import writes nothing.
   */
  signal?: AbortSignal;
}

/** Throws when `deps.signal` was aborted, with its reason: nothing has been written yet. */
function checkCancelled(deps: ImportDeps, what: string): void {
  const signal = deps.signal;
  if (!signal?.aborted) return;
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'cancelled');
  throw new LabError(`${what} was cancelled (${reason}): nothing was written`, 'ConflictError');
}

/** Throttles progress events to one per `ms` (the last one of a phase always goes out). */
function progressSink(deps: ImportDeps) {
  const send = deps.onProgress ?? (() => {});
  let last = 0;
  const clock = deps.clock ?? (() => performance.now());
  return (phase: ImportProgress['phase'], done: number, total: number, force = false) => {
    const now = clock();
    if (!force && now - last < 100 && done !== total) return;
    last = now;
    send({ phase, done, total });
  };
}

async function checkRoot(root: string): Promise<string> {
  if (!isAbsolute(root)) throw new LabError(`the dataset folder must be an absolute path, got ${JSON.stringify(root)}`, 'ValidationError');
  const abs = resolve(root);
  let info;
  try {
    info = await stat(abs);
  } catch {
    throw new LabError(`the dataset folder ${abs} does not exist`, 'ValidationError');
  }
  if (!info.isDirectory()) throw new LabError(`${abs} is a file, not a folder`, 'ValidationError');
  return abs;
}

async function walkOrFail(root: string, deps: ImportDeps, progress: ReturnType<typeof progressSink>): Promise<DatasetWalk> {
  const walk = await walkDataset(root, {
    ...(deps.fs ? { fs: deps.fs } : {}),
    onProgress: (n) => {
      progress('scanning', n, 0);
      checkCancelled(deps, `the scan of ${root}`);
    },
  });
  if (walk.scenarios.length === 0) {
    throw new LabError(
      `no dataset layout found in ${root}: expected <scenario>/train/good, <scenario>/test/<class> (MIAD or MVTec AD layout), or a scenario folder with train/ and test/`,
      'ValidationError',
    );
  }
  return walk;
}

/** Step one of the import dialog: what the folder holds and which defect folders need a mapping. */
export async function scanFolder(store: Store | null, rootIn: string, mapping: FolderMapping = {}, deps: ImportDeps = {}): Promise<ImportScan> {
  const root = await checkRoot(rootIn);
  const progress = progressSink(deps);
  const walk = await walkOrFail(root, deps, progress);
  checkCancelled(deps, `the scan of ${root}`);
  validateMapping(walk, mapping);
  const folders = defectFolders(walk, mapping);
  const scenarios = walk.scenarios.map((s) => {
    const imgs = walk.images.filter((i) => i.scenario === s.scenario);
    return {
      ...s,
      train: imgs.filter((i) => i.split === 'train').length,
      test: imgs.filter((i) => i.split === 'test').length,
      masks: walk.masks.filter((m) => m.scenario === s.scenario).length,
    };
  });
  progress('scanning', walk.folders, walk.folders, true);
  return {
    root,
    kind: walk.kind,
    suggestedName: basename(root) || root,
    scenarios,
    folders,
    unmapped: folders.filter((f) => f.target === null),
    images: walk.images.length,
    masks: walk.masks.length,
    problems: walk.problems.groups(),
    existingDatasetId: store ? new ImportRepo(store).findDatasetByRoot(root) : null,
  };
}

/** What a rescan knows before it reads: the stored samples by image path, and a stat of every file. */
interface Known {
  samples: ReadonlyMap<string, StoredSample>;
  /** FactReader.stat of the images then the masks, in readFiles' order. */
  stats: Float64Array;
}

/**
 * Reads the files of a walk through `reader`. With `known` (a rescan), an image whose stat gives
 * the stored size and mtime is not read again and keeps its stored facts, and so is its mask when
 * the mask's do (a mask the last scan found of another size than its image is always read again,
 * its size is not stored); only the others are read, hashed and checked.
 */
async function readFiles(
  root: string,
  images: readonly string[],
  masks: readonly string[],
  reader: FactReader,
  known: Known | null,
  deps: ImportDeps,
  progress: ReturnType<typeof progressSink>,
): Promise<{ images: Map<string, FileOutcome>; masks: Map<string, FileOutcome>; reread: Set<string> }> {
  const rels = [...images, ...masks];
  const out = { images: new Map<string, FileOutcome>(), masks: new Map<string, FileOutcome>(), reread: new Set<string>() };
  const toRead: number[] = [];
  if (known) {
    const knownMasks = new Map<string, StoredSample>();
    for (const k of known.samples.values()) {
      if (k.maskRelPath !== null && k.maskFileSize !== null && k.maskMtimeMs !== null && !k.issues.includes('mask-size-mismatch')) knownMasks.set(k.maskRelPath, k);
    }
    const { stats } = known;
    for (let i = 0; i < rels.length; i++) {
      const rel = rels[i]!;
      const size = stats[2 * i]!;
      const mtimeMs = stats[2 * i + 1]!;
      if (i < images.length) {
        const k = known.samples.get(rel);
        if (k && k.contentHash && k.fileSize === size && k.mtimeMs === mtimeMs) {
          out.images.set(rel, { ok: true, facts: { size, mtimeMs, hash: k.contentHash, format: k.format, width: k.width, height: k.height } });
          continue;
        }
      } else {
        // An unchanged mask that matched its image's size: its facts are the image's size (its hash is not kept).
        const k = knownMasks.get(rel);
        if (k && k.maskFileSize === size && k.maskMtimeMs === mtimeMs) {
          out.masks.set(rel, { ok: true, facts: { size, mtimeMs, hash: '', format: 'png', width: k.width, height: k.height } });
          continue;
        }
      }
      toRead.push(i);
    }
  } else {
    for (let i = 0; i < rels.length; i++) toRead.push(i);
  }
  let done = rels.length - toRead.length;
  progress('hashing', done, rels.length);
  const requests: FactRequest[] = toRead.map((i) => ({ path: join(root, rels[i]!) }));
  const decoding = limiter(2);
  await readAll(reader, requests, async (index, raw) => {
    checkCancelled(deps, `the import of ${root}`);
    const i = toRead[index]!;
    const rel = rels[i]!;
    const target = i < images.length ? out.images : out.masks;
    let outcome: FileOutcome;
    if (raw.status === 'error') {
      outcome = { ok: false, problem: 'unreadable-file', detail: raw.code };
    } else {
      out.reread.add(rel);
      const path = requests[index]!.path;
      // Headers, checksums and the pixel limit first: a file they refuse is never decoded, nor is a
      // PNG whose image data the reader already proved whole (its rows inflated and checked there).
      const check = await checkImageHeader({ ...raw, path });
      const decoded = check.ok && !raw.pixelsVerified ? await decoding(() => checkDecodes(path, check)) : null;
      if (!check.ok) outcome = { ok: false, problem: check.problem, detail: check.detail };
      else if (decoded && !decoded.ok) outcome = { ok: false, problem: decoded.problem, detail: decoded.detail };
      else outcome = { ok: true, facts: { size: raw.size, mtimeMs: raw.mtimeMs, hash: raw.hash, format: check.format, width: check.width, height: check.height } satisfies ImageFacts };
    }
    target.set(rel, outcome);
    progress('hashing', ++done, rels.length);
  });
  return out;
}

/** Runs `work` with a file reader for one import or rescan (deps.makeReader, default the worker pool), closed after. */
async function withReader<T>(deps: ImportDeps, work: (reader: FactReader) => Promise<T>): Promise<T> {
  const reader = (deps.makeReader ?? createDefaultReader)();
  try {
    return await work(reader);
  } finally {
    await reader.close();
  }
}

function storedLayout(walk: DatasetWalk, userMapping: FolderMapping, resolved: ReturnType<typeof defectFolders>): StoredLayout {
  return {
    version: 1,
    scenarios: walk.scenarios.map((s) => ({ ...s })),
    userMapping: { ...userMapping },
    resolved: Object.fromEntries(resolved.map((f) => [mappingKey(f.scenario, f.folder), f.target ?? ''])),
  };
}

/** What an import and a rescan report alike: counts, problems, and the folder mapping applied. */
function planFindings(
  plan: ReturnType<typeof buildPlan>,
  folders: ReturnType<typeof defectFolders>,
): Pick<ImportReport, 'totals' | 'scenarios' | 'problems' | 'mapping'> {
  return {
    totals: plan.totals,
    scenarios: plan.scenarios,
    problems: plan.problems.groups(),
    mapping: Object.fromEntries(folders.map((f) => [mappingKey(f.scenario, f.folder), f.target ?? SKIP])),
  };
}

/** Imports `root` as a new dataset; refuses while a defect folder is unmapped. */
export async function importFolder(
  store: Store,
  input: { root: string; name?: string | undefined; mapping?: FolderMapping | undefined },
  deps: ImportDeps = {},
): Promise<ImportResult> {
  const clock = deps.clock ?? (() => performance.now());
  const started = clock();
  const root = await checkRoot(input.root);
  const repo = new ImportRepo(store);
  const existing = repo.findDatasetByRoot(root);
  if (existing !== null) throw new LabError(`${root} is already imported as dataset ${existing}: rescan it instead`, 'ConflictError');
  const mapping = input.mapping ?? {};
  const progress = progressSink(deps);
  const walk = await walkOrFail(root, deps, progress);
  validateMapping(walk, mapping);
  const folders = defectFolders(walk, mapping);
  const unmapped = folders.filter((f) => f.target === null);
  if (unmapped.length > 0) throw unmappedError(unmapped);

  const toRead = filesToRead(walk, folders);
  const facts = await withReader(deps, (reader) => readFiles(root, toRead.images, toRead.masks, reader, null, deps, progress));
  const plan = buildPlan(walk, folders, facts.images, facts.masks);
  // The last check: from here to the commit nothing awaits, so a close cannot come between.
  checkCancelled(deps, `the import of ${root}`);
  const name = input.name ?? (basename(root) || root);
  const createdAt = store.nowIso();

  const total = plan.rows.length;
  const { datasetId, reportId, report } = store.transaction(() => {
    const datasetId = repo.insertDataset({ name, root, kind: walk.kind, layout: storedLayout(walk, mapping, folders), scannedAt: createdAt });
    repo.insertSamples(datasetId, plan.rows, (n) => {
      deps.onRowWritten?.(n);
      progress('writing', n, total);
    });
    const report: ImportReport = {
      kind: 'import',
      datasetId,
      name,
      root,
      datasetKind: walk.kind,
      createdAt,
      seconds: (clock() - started) / 1000,
      ...planFindings(plan, folders),
      changes: null,
    };
    return { datasetId, reportId: repo.insertReport(datasetId, report), report };
  });
  progress('done', total, total, true);
  return { datasetId, reportId, report };
}

function sameRow(a: ImportRow, b: ImportRow): boolean {
  return (
    a.scenario === b.scenario && a.split === b.split && a.label === b.label && a.maskRelPath === b.maskRelPath &&
    a.width === b.width && a.height === b.height && a.format === b.format && a.fileSize === b.fileSize &&
    a.mtimeMs === b.mtimeMs && a.contentHash === b.contentHash && a.sourceFolder === b.sourceFolder &&
    a.maskFileSize === b.maskFileSize && a.maskMtimeMs === b.maskMtimeMs &&
    a.issues.join(',') === b.issues.join(',')
  );
}

/**
 * Rescans an imported dataset: every file is stat'ed first (in the reader's threads, while this
 * thread loads the stored rows); files whose size and mtime are unchanged are not read; the others
 * are hashed (same hash: only touched). Only rows that differ are written, in one transaction,
 * and existing rows keep their ids (annotations stay attached).
 */
export async function rescanDataset(
  store: Store,
  input: { datasetId: number; mapping?: FolderMapping | undefined },
  deps: ImportDeps = {},
): Promise<ImportResult> {
  const clock = deps.clock ?? (() => performance.now());
  const started = clock();
  const repo = new ImportRepo(store);
  const dataset = repo.getDataset(input.datasetId);
  const root = await checkRoot(dataset.root).catch((error: Error) => {
    throw new LabError(`cannot rescan dataset ${dataset.id}: ${error.message}`, 'ConflictError');
  });
  const progress = progressSink(deps);
  const walk = await walkOrFail(root, deps, progress);
  const userMapping = { ...(dataset.layout?.userMapping ?? {}) };
  // Stored choices for folders that have gone are dropped; new input wins over stored.
  const present = new Set(defectFolders(walk).map((f) => mappingKey(f.scenario, f.folder)));
  for (const key of Object.keys(userMapping)) if (!present.has(key)) delete userMapping[key];
  validateMapping(walk, input.mapping ?? {});
  Object.assign(userMapping, input.mapping ?? {});
  const folders = defectFolders(walk, userMapping);
  const unmapped = folders.filter((f) => f.target === null);
  if (unmapped.length > 0) throw unmappedError(unmapped);

  const toRead = filesToRead(walk, folders);
  let stored: StoredSample[] = [];
  let byRel = new Map<string, StoredSample>();
  const facts = await withReader(deps, async (reader) => {
    // The workers stat every file while this thread loads the stored rows.
    // root is resolved and rels are walked names joined by '/', which every platform's file calls
    // accept: plain concatenation spares path.join's normalising pass over 122,500 paths.
    const prefix = root.endsWith(sep) ? root : root + sep;
    const stats = statAll(reader, [...toRead.images, ...toRead.masks].map((rel) => prefix + rel));
    stored = repo.samples(dataset.id);
    byRel = new Map(stored.map((s) => [s.relPath, s]));
    return readFiles(root, toRead.images, toRead.masks, reader, { samples: byRel, stats: await stats }, deps, progress);
  });
  const plan = buildPlan(walk, folders, facts.images, facts.masks);
  checkCancelled(deps, `the rescan of ${root}`);

  const changes: ImportChanges = { added: 0, removed: 0, modified: 0, touched: 0, unchanged: 0, relabelled: 0 };
  const inserts: ImportRow[] = [];
  const updates: StoredSample[] = [];
  const keep = new Set<string>();
  for (const row of plan.rows) {
    keep.add(row.relPath);
    const old = byRel.get(row.relPath);
    if (!old) {
      inserts.push(row);
      changes.added++;
      continue;
    }
    const fileChanged = facts.reread.has(row.relPath);
    // A mask read again counts as changed when its size or mtime moved (not when the row had no mask
    // facts yet, imported before they were kept, nor when it is read again for its known size mismatch).
    const maskReread = row.maskRelPath !== null && facts.reread.has(row.maskRelPath);
    const maskChanged = maskReread && old.maskFileSize !== null && (old.maskFileSize !== row.maskFileSize || old.maskMtimeMs !== row.maskMtimeMs);
    // A row registered without facts (a generated demo) gets them now: not a content change.
    if ((fileChanged && old.contentHash !== '' && old.contentHash !== row.contentHash) || maskChanged) changes.modified++;
    else if (fileChanged || maskReread) changes.touched++;
    else changes.unchanged++;
    if (!sameRow(old, row)) {
      updates.push({ ...row, id: old.id });
      if (!fileChanged && !maskReread) changes.relabelled++;
    }
  }
  const removed = stored.filter((s) => !keep.has(s.relPath));
  changes.removed = removed.length;
  const createdAt = store.nowIso();
  const total = inserts.length + updates.length + removed.length;
  const result = store.transaction(() => {
    repo.deleteSamples(removed.map((s) => s.id));
    let n = removed.length;
    const tick = () => {
      n++;
      deps.onRowWritten?.(n);
      progress('writing', n, total);
    };
    repo.updateSamples(updates, tick);
    repo.insertSamples(dataset.id, inserts, tick);
    repo.updateDatasetScan(dataset.id, walk.kind, storedLayout(walk, userMapping, folders), createdAt);
    const report: ImportReport = {
      kind: 'rescan',
      datasetId: dataset.id,
      name: dataset.name,
      root,
      datasetKind: walk.kind,
      createdAt,
      seconds: (clock() - started) / 1000,
      ...planFindings(plan, folders),
      changes,
    };
    return { datasetId: dataset.id, reportId: repo.insertReport(dataset.id, report), report };
  });
  progress('done', total, total, true);
  return result;
}
