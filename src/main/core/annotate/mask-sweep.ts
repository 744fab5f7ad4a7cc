/**
 * The sweep of `<workspace>/masks/` as a workspace opens (issue 20, item 7). A save writes a
 * `.tmp` file, renames it to `masks/<dataset>/<sample>.<stamp>-<random>.png` and only then points
 * the row at it (annotation-service.ts), so a killed save leaves a `.tmp` or a PNG nobody names.
 * Removed: `*.tmp` files and mask PNGs that no annotation and no history entry names
 * (referencedAnnotationMasks), both only when over `minAgeMs` old, so that a save in flight in
 * another process keeps its file. Every version the history names is kept, so a revert still
 * finds its mask. Only regular files directly in `masks/<dataset>/` are looked at; links are
 * neither followed nor removed, and nothing outside masks/ is touched.
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../store/store';
import { referencedAnnotationMasks } from '../store/served-files-repo';

export interface MaskSweepResult {
  /** Stale `.tmp` files removed. */
  removedTmp: number;
  /** Mask PNGs no annotation and no history entry named, removed. */
  removedOrphans: number;
}

export interface MaskSweepOptions {
  /** Files younger than this are left alone (default one minute). */
  minAgeMs?: number;
  now?: number;
}

export const MASK_SWEEP_MIN_AGE_MS = 60_000;

export async function sweepMasks(store: Store, workspaceDir: string, options: MaskSweepOptions = {}): Promise<MaskSweepResult> {
  const result: MaskSweepResult = { removedTmp: 0, removedOrphans: 0 };
  const masksDir = join(workspaceDir, 'masks');
  const top = await lstat(masksDir).catch(() => null);
  if (!top?.isDirectory()) return result;
  const cutoff = (options.now ?? Date.now()) - (options.minAgeMs ?? MASK_SWEEP_MIN_AGE_MS);
  let referenced: Set<string> | undefined;
  for (const dataset of await readdir(masksDir, { withFileTypes: true })) {
    if (!dataset.isDirectory()) continue;
    let files: Dirent[];
    try {
      files = await readdir(join(masksDir, dataset.name), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const file of files) {
      if (!file.isFile()) continue;
      const isTmp = file.name.endsWith('.tmp');
      if (!isTmp && !file.name.endsWith('.png')) continue;
      // Same form as annotation-service.ts writes (path.join, so the platform's separator).
      const rel = join('masks', dataset.name, file.name);
      if (!isTmp) {
        referenced ??= referencedAnnotationMasks(store);
        if (referenced.has(rel)) continue;
      }
      const path = join(masksDir, dataset.name, file.name);
      const stat = await lstat(path).catch(() => null);
      if (!stat?.isFile() || stat.mtimeMs > cutoff) continue;
      // A save that finished since the set was read points a row at a fresh file, never an old one.
      try {
        await unlink(path);
      } catch {
        continue;
      }
      if (isTmp) result.removedTmp++;
      else result.removedOrphans++;
    }
  }
  return result;
}
