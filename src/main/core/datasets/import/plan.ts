/**
 * From a walk, its folder mapping and the facts read from each file to the rows an import writes
 * and the report it stores. Pure: no file system and no database, so every rule (which files are
 * skipped, how masks pair with images, what counts as a leak or a duplicate) is tested directly.
 *
 * Policy: images that cannot be used at all (zero bytes, not an image, corrupt or truncated,
 * unreadable) are skipped and reported; samples with a mask problem or whose content also appears
 * elsewhere (leak between train and test, duplicate within a split) are imported and carry the
 * problem codes in `samples.issues`, which the Library's "problems" facet reads.
 */
import {
  SKIP,
  mappingKey,
  type DefectFolder,
  type ImportProblemKind,
  type SampleIssue,
  type ScenarioImportCounts,
} from '../../../../shared/calls/import';
import type { Split } from '../../../../shared/types';
import { ProblemLog } from './problems';
import type { DatasetWalk } from './walk';
import { maskedStem, preferredMask } from '../layout';

export interface ImageFacts {
  size: number;
  mtimeMs: number;
  hash: string;
  format: 'png' | 'jpeg';
  width: number;
  height: number;
}

export type FileOutcome =
  | { ok: true; facts: ImageFacts }
  | { ok: false; problem: Extract<ImportProblemKind, 'zero-byte' | 'not-image' | 'corrupt-image' | 'truncated-image' | 'too-large' | 'unreadable-file'>; detail: string };

/** One sample row as the importer writes it. */
export interface ImportRow {
  scenario: string;
  split: Split;
  label: string;
  relPath: string;
  maskRelPath: string | null;
  /** The mask file's size and mtime as read (null without a mask): a rescan reads it again only when they change. */
  maskFileSize: number | null;
  maskMtimeMs: number | null;
  width: number;
  height: number;
  format: 'png' | 'jpeg';
  fileSize: number;
  mtimeMs: number;
  contentHash: string;
  /** Sorted problem codes; empty when none. */
  issues: SampleIssue[];
  sourceFolder: string;
}

export interface ImportPlan {
  rows: ImportRow[];
  problems: ProblemLog;
  scenarios: ScenarioImportCounts[];
  totals: { images: number; samples: number; skipped: number; masks: number; bytes: number };
}

/** The files of a walk that need reading: images of folders not skipped, and their masks. */
export function filesToRead(walk: DatasetWalk, folders: readonly DefectFolder[]): { images: string[]; masks: string[] } {
  const skipped = new Set(folders.filter((f) => f.target === SKIP).map((f) => mappingKey(f.scenario, f.folder)));
  return {
    images: walk.images.filter((i) => i.good || !skipped.has(mappingKey(i.scenario, i.folder))).map((i) => i.rel),
    masks: walk.masks.filter((m) => !skipped.has(mappingKey(m.scenario, m.folder))).map((m) => m.rel),
  };
}

export function buildPlan(
  walk: DatasetWalk,
  folders: readonly DefectFolder[],
  images: ReadonlyMap<string, FileOutcome>,
  masks: ReadonlyMap<string, FileOutcome>,
): ImportPlan {
  const problems = new ProblemLog();
  problems.merge(walk.problems);
  const target = new Map(folders.map((f) => [mappingKey(f.scenario, f.folder), f.target]));
  const layoutDir = new Map(walk.scenarios.map((s) => [s.scenario, s.dir]));

  for (const f of folders) {
    if (f.target !== SKIP) continue;
    const dir = layoutDir.get(f.scenario) ?? f.scenario;
    problems.add('skipped-folder', `${dir ? dir + '/' : ''}test/${f.folder}`, `${f.images} images and ${f.masks} masks mapped to skip`);
  }

  // Masks by (scenario, folder, image stem), paired by the layout's rule (datasets/layout.ts).
  const maskIndex = new Map<string, { stem: string; rel: string }>();
  for (const m of walk.masks) {
    if (target.get(mappingKey(m.scenario, m.folder)) === SKIP) continue;
    const key = `${m.scenario}\0${m.folder}\0${maskedStem(m.stem)}`;
    if (preferredMask(m.stem, maskIndex.get(key)?.stem)) maskIndex.set(key, { stem: m.stem, rel: m.rel });
  }
  const claimed = new Set<string>();

  const counts = new Map<string, ScenarioImportCounts>();
  for (const s of walk.scenarios) counts.set(s.scenario, { scenario: s.scenario, dir: s.dir, train: {}, test: {}, masks: 0, skipped: 0 });

  const rows: ImportRow[] = [];
  let bytes = 0;
  let skipped = 0;
  let imageCount = 0;
  for (const img of walk.images) {
    const label = img.good ? 'good' : target.get(mappingKey(img.scenario, img.folder));
    if (label === SKIP || label === undefined || label === null) continue;
    imageCount++;
    const c = counts.get(img.scenario)!;
    const maskRel = img.good ? undefined : maskIndex.get(`${img.scenario}\0${img.folder}\0${img.stem}`)?.rel;
    if (maskRel) claimed.add(maskRel);
    const outcome = images.get(img.rel);
    if (!outcome || !outcome.ok) {
      skipped++;
      c.skipped++;
      problems.add(outcome?.problem ?? 'unreadable-file', img.rel, outcome?.detail ?? 'not read');
      continue;
    }
    const f = outcome.facts;
    bytes += f.size;
    const issues: SampleIssue[] = [];
    let maskRelPath: string | null = null;
    let maskFacts: ImageFacts | null = null;
    if (!img.good) {
      if (!maskRel) {
        issues.push('mask-missing');
        problems.add('mask-missing', img.rel);
      } else {
        const m = masks.get(maskRel);
        if (!m || !m.ok) {
          issues.push('mask-unreadable');
          problems.add('mask-unreadable', maskRel, m && !m.ok ? m.detail : 'not read');
        } else {
          maskRelPath = maskRel;
          maskFacts = m.facts;
          c.masks++;
          if (m.facts.width !== f.width || m.facts.height !== f.height) {
            issues.push('mask-size-mismatch');
            problems.add('mask-size-mismatch', maskRel, `mask ${m.facts.width}×${m.facts.height}, image ${f.width}×${f.height}`);
          }
        }
      }
    }
    const bySplit = img.split === 'train' ? c.train : c.test;
    bySplit[label] = (bySplit[label] ?? 0) + 1;
    rows.push({
      scenario: img.scenario,
      split: img.split,
      label,
      relPath: img.rel,
      maskRelPath,
      maskFileSize: maskFacts?.size ?? null,
      maskMtimeMs: maskFacts?.mtimeMs ?? null,
      width: f.width,
      height: f.height,
      format: f.format,
      fileSize: f.size,
      mtimeMs: f.mtimeMs,
      contentHash: f.hash,
      issues,
      sourceFolder: img.folder,
    });
  }

  for (const m of walk.masks) {
    if (claimed.has(m.rel) || target.get(mappingKey(m.scenario, m.folder)) === SKIP) continue;
    problems.add('mask-orphan', m.rel, 'no test image with this name');
  }

  flagSharedContent(rows, problems);
  for (const r of rows) r.issues.sort();

  return {
    rows,
    problems,
    scenarios: [...counts.values()].sort((a, b) => (a.scenario < b.scenario ? -1 : 1)),
    totals: { images: imageCount, samples: rows.length, skipped, masks: [...counts.values()].reduce((n, c) => n + c.masks, 0), bytes },
  };
}

/**
 * Flags rows whose bytes also appear in another row: `leak` when the copies span train and test
 * (a test image the model has seen), `duplicate` when one split holds the content more than once.
 */
function flagSharedContent(rows: ImportRow[], problems: ProblemLog): void {
  const byHash = new Map<string, ImportRow[]>();
  for (const r of rows) {
    const group = byHash.get(r.contentHash);
    if (group) group.push(r);
    else byHash.set(r.contentHash, [r]);
  }
  for (const group of byHash.values()) {
    if (group.length < 2) continue;
    const train = group.filter((r) => r.split === 'train');
    const test = group.filter((r) => r.split === 'test');
    if (train.length > 0 && test.length > 0) {
      for (const r of group) {
        r.issues.push('leak');
        const other = (r.split === 'train' ? test : train)[0]!;
        problems.add('leak', r.relPath, `same content as ${other.relPath}`);
      }
    }
    for (const part of [train, test]) {
      if (part.length < 2) continue;
      for (const r of part) {
        r.issues.push('duplicate');
        const other = part.find((o) => o !== r)!;
        problems.add('duplicate', r.relPath, `same content as ${other.relPath}`);
      }
    }
  }
}
