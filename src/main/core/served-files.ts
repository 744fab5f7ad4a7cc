/**
 * The one rule for the files a client may read (issue 20): both doors, the server's `/api/file`
 * and the desktop's `miad-file:` protocol, ask the lab host, which asks this module. A file is
 * served only when the store knows it as something the app shows:
 *
 * - under a registered dataset root: a sample's image or its dataset mask (by its path relative to
 *   the root, as the importer recorded it);
 * - under the workspace: an edited mask that an annotation points at now or did in its history
 *   (`masks/<dataset>/<sample>.<stamp>.png`), a thumbnail (`thumbs/`), a DRAEM synthesis preview
 *   (`previews/`), a picture of a run the store has (`runs/<id>/...`: sample pictures, heat maps);
 *
 * and only with an image extension, which fixes its content type (SERVED_IMAGE_TYPES; never one
 * sniffed from the bytes). Anything else (the database, a secret beside a dataset, an HTML or SVG
 * file, a picture nobody registered) is a ForbiddenError whether it exists or not, so nothing can
 * be probed. A known file is then confined to the root it is known under (resolveConfined:
 * symbolic links followed, the real file must lie inside that dataset's folder, or the workspace,
 * by the one rule for links, staysInsideRoot, which the importer applies too): a sample that is a
 * link into another dataset or the workspace is refused like one leading anywhere else.
 */
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { LabError } from '../../shared/errors';
import { isInside, resolveConfined } from './fs-util';
import type { Store } from './store/store';
import { datasetRootList, isAnnotationMask, isDatasetFile, runExists } from './store/served-files-repo';

/** The content type of each extension a door serves; files of any other extension are never served. */
export const SERVED_IMAGE_TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};

/** The fixed content type of a path by its extension, or null when it is not one the doors serve. */
export function servedImageType(path: string): string | null {
  return SERVED_IMAGE_TYPES[extname(path).toLowerCase()] ?? null;
}

/**
 * The headers both doors send with a served file (the door adds length and caching): the type
 * from the extension the rule checked, and nosniff so no browser second-guesses it.
 */
export function servedFileHeaders(path: string): Record<string, string> {
  return { 'content-type': servedImageType(path) ?? 'application/octet-stream', 'x-content-type-options': 'nosniff' };
}

export interface ServedFileContext {
  store: Store;
  /** The open workspace's folder. */
  workspaceDir: string;
}

function denied(requested: string, why: string): LabError {
  return new LabError(`access denied: ${requested} ${why}`, 'ForbiddenError');
}

/**
 * The real path of a file a client may read; throws ForbiddenError for a file the store does not
 * know (existing or not) and NotFoundError for a known one that is missing.
 */
export async function resolveServedFile(requested: string, ctx: ServedFileContext): Promise<string> {
  if (!isAbsolute(requested)) throw denied(requested, 'is not an absolute path');
  const path = resolve(requested);
  if (servedImageType(path) === null) {
    throw denied(requested, `is not an image the lab shows (${Object.keys(SERVED_IMAGE_TYPES).join(', ')})`);
  }
  const root = knownRoot(path, datasetRootList(ctx.store), ctx);
  if (root === null) {
    throw denied(requested, 'is not a sample, mask, thumbnail or run picture of this workspace');
  }
  return resolveConfined(requested, [root]);
}

/** The root (a dataset's folder or the workspace) under which the store knows `path`, or null. */
function knownRoot(path: string, datasets: readonly { id: number; root: string }[], ctx: ServedFileContext): string | null {
  for (const { id, root } of datasets) {
    const base = resolve(root);
    if (path !== base && isInside(base, path) && isDatasetFile(ctx.store, id, relative(base, path).split(sep).join('/'))) return base;
  }
  const ws = resolve(ctx.workspaceDir);
  return knownUnderWorkspace(path, ws, ctx) ? ws : null;
}

function knownUnderWorkspace(path: string, ws: string, ctx: ServedFileContext): boolean {
  if (path === ws || !isInside(ws, path)) return false;
  const rel = relative(ws, path);
  const parts = rel.split(sep);
  switch (parts[0]) {
    case 'thumbs':
    case 'previews':
      return parts.length >= 2;
    case 'masks': {
      // masks/<dataset id>/<sample id>.<stamp>-<random>.png (annotation-service.ts)
      const sampleId = /^(\d+)\./.exec(parts[2] ?? '')?.[1];
      return parts.length === 3 && sampleId !== undefined && isAnnotationMask(ctx.store, Number(sampleId), rel);
    }
    case 'runs':
      return parts.length >= 3 && /^\d+$/.test(parts[1]!) && runExists(ctx.store, Number(parts[1]));
    default:
      return false;
  }
}
