/**
 * What the bundles (dataset, run, checkpoint) share: a manifest is canonical JSON stored as a blob,
 * so its sha256 is the bundle's digest, and it lists files as `{ path, size, sha256 }` with paths
 * relative to the folder the bundle unpacks into.
 *
 * A manifest comes from the wire: before anything is written it is parsed with zod and every path
 * is checked to stay inside its folder (relative, `/`-separated, no `..` or `.` segment, no empty
 * segment, no backslash or NUL, no drive letter, unique even ignoring case, no file that is another's
 * folder). Files are then fetched into a fresh staging folder, each checked by sha256 and size, and
 * only a complete staging folder is renamed into place: a bad blob leaves nothing behind. Links are
 * never made: only plain files written by us.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BlobIntegrityError, checkBlobId, type BlobStore } from './blob-store';

const SEGMENT = /^[^/\\\0]+$/;

/** Why a bundle path is unsafe, or null when it may be joined under the bundle's folder. */
export function unsafePathReason(path: string): string | null {
  if (path.length === 0 || path.length > 1024) return 'is empty or longer than 1024 characters';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'is absolute';
  if (path.includes('\\')) return 'contains a backslash';
  if (path.includes('\0')) return 'contains a NUL character';
  for (const segment of path.split('/')) {
    if (segment === '..') return 'climbs out with ..';
    if (segment === '.' || segment === '') return 'has an empty or "." segment';
    if (!SEGMENT.test(segment)) return 'has a bad segment';
  }
  return null;
}

export const bundleFileSchema = z
  .object({
    path: z.string(),
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lower-case hex'),
  })
  .strict();
export type BundleFile = z.infer<typeof bundleFileSchema>;

/** Refuses a file list with an unsafe path, a path listed twice (also ignoring case) or a file that is another's folder. */
export function checkBundleFiles(what: string, files: readonly BundleFile[]): void {
  const seen = new Set<string>();
  for (const f of files) {
    const reason = unsafePathReason(f.path);
    if (reason) throw new BlobIntegrityError(`${what}: the file path ${JSON.stringify(f.path.slice(0, 200))} ${reason}; nothing was written`);
    const key = f.path.toLowerCase();
    if (seen.has(key)) throw new BlobIntegrityError(`${what}: the file path ${JSON.stringify(f.path)} is listed twice; nothing was written`);
    seen.add(key);
  }
  for (const f of files) {
    const parts = f.path.toLowerCase().split('/');
    for (let i = 1; i < parts.length; i++) {
      if (seen.has(parts.slice(0, i).join('/'))) throw new BlobIntegrityError(`${what}: ${JSON.stringify(parts.slice(0, i).join('/'))} is both a file and a folder; nothing was written`);
    }
  }
}

/** JSON with object keys sorted at every level: the same value always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** Stores a manifest as canonical JSON; its blob id is the bundle's digest. */
export async function putManifest(blobs: BlobStore, manifest: unknown): Promise<string> {
  return blobs.put(new TextEncoder().encode(canonicalJson(manifest)));
}

/** Reads a manifest blob (checked by sha256) and parses it with `schema`; a bad one is a BlobIntegrityError. */
export async function getManifest<T>(blobs: BlobStore, digest: string, schema: z.ZodType<T>, what: string): Promise<T> {
  checkBlobId(digest);
  const bytes = await blobs.get(digest);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new BlobIntegrityError(`${what} ${digest.slice(0, 16)}…: its manifest is not JSON`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BlobIntegrityError(`${what} ${digest.slice(0, 16)}…: its manifest is not valid (${issue.path.join('.') || 'manifest'}: ${issue.message}); nothing was written`);
  }
  return parsed.data;
}

/**
 * Fetches every file into a fresh staging folder beside `dest`, each checked by sha256 (the store)
 * and size (here), then renames the staging folder to `dest` (which must not exist). On any failure
 * the staging folder is removed and the error rethrown, naming the file: nothing lands at `dest`.
 */
export async function fetchFilesInto(blobs: BlobStore, files: readonly BundleFile[], dest: string, what: string): Promise<void> {
  checkBundleFiles(what, files);
  const staging = `${dest}.${randomBytes(6).toString('hex')}.staging`;
  try {
    await mkdir(staging, { recursive: true });
    for (const f of files) {
      const target = join(staging, ...f.path.split('/'));
      try {
        await blobs.getFile(f.sha256, target);
      } catch (error) {
        throw Object.assign(error instanceof Error ? error : new Error(String(error)), {
          message: `${what}: ${f.path}: ${error instanceof Error ? error.message : String(error)}; nothing was written`,
        });
      }
      const size = (await stat(target)).size;
      if (size !== f.size) throw new BlobIntegrityError(`${what}: ${f.path} has ${size} bytes, the manifest says ${f.size}; nothing was written`);
    }
    await rename(staging, dest);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
