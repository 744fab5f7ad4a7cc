/** Small file-system helpers shared by the core: atomic writes and confined path resolution. */
import { open, rename, mkdir, realpath, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { LabError } from '../../shared/errors';

/**
 * Creates a folder and its missing parents, one level at a time. Used for paths users type:
 * Node's `mkdir(..., { recursive: true })` never returns on some file systems that refuse the
 * creation with ENOENT (procfs, some FUSE mounts), where this fails with that error instead.
 */
export async function makeDirs(path: string): Promise<void> {
  const target = resolve(path);
  const missing: string[] = [];
  let cursor = target;
  for (;;) {
    try {
      const info = await stat(cursor);
      if (!info.isDirectory()) throw Object.assign(new Error(`${cursor} is a file, not a folder`), { code: 'ENOTDIR' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      missing.push(cursor);
      const parent = dirname(cursor);
      if (parent === cursor) break;
      cursor = parent;
    }
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** sha256 of a file, hex, streamed in 1 MiB chunks (weights files are hundreds of MB). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Writes `data` to `path` atomically: temp file in the same folder, fsync, rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}

/** True when `child` is `parent` or lies inside it (both absolute, already normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The one rule for symbolic links (README, "Where data lives"): a path under a root (a dataset's
 * folder, the workspace) is used only when its real location, links followed, lies inside that
 * root's real location. The importer reports and skips a link that leaves its dataset's folder
 * (datasets/import/walk.ts, for imports and rescans alike); the file doors refuse it
 * (resolveConfined, through served-files.ts).
 */
export function staysInsideRoot(realRoot: string, realPath: string): boolean {
  return isInside(realRoot, realPath);
}

/**
 * Resolves a requested file against allowed roots. Symbolic links are followed before the check,
 * so a link inside a root that points outside it is refused (staysInsideRoot).
 */
export async function resolveConfined(requested: string, roots: readonly string[]): Promise<string> {
  if (!isAbsolute(requested)) throw new LabError(`not an absolute path: ${requested}`, 'ForbiddenError');
  let real: string;
  try {
    real = await realpath(requested);
  } catch {
    // Refuse before saying "not found" when the path would be outside anyway: no probing outside the roots.
    const outside = !(await anyRootContains(roots, requested));
    if (outside) throw new LabError(`access denied: ${requested} is outside the workspace and the registered datasets`, 'ForbiddenError');
    throw new LabError(`file not found: ${requested}`, 'NotFoundError');
  }
  if (!(await anyRootContains(roots, real))) {
    throw new LabError(`access denied: ${requested} is outside the workspace and the registered datasets`, 'ForbiddenError');
  }
  const info = await stat(real);
  if (!info.isFile()) throw new LabError(`not a file: ${requested}`, 'NotFoundError');
  return real;
}

async function anyRootContains(roots: readonly string[], path: string): Promise<boolean> {
  for (const root of roots) {
    const realRoot = await realpath(root).catch(() => null);
    if (realRoot && staysInsideRoot(realRoot, path)) return true;
  }
  return false;
}
