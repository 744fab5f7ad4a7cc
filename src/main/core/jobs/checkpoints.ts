/**
 * Checkpoint files of a run: `runs/<id>/checkpoints/step-<n>/` (state.json plus one file per
 * blob) and `checkpoints/latest.json` naming the newest complete one.
 *
 * Written so a kill at any instant leaves the previous checkpoint usable: the new folder is
 * filled under a temporary name with every file fsynced, renamed into place, and only then does
 * `latest.json` (itself written temp + fsync + rename) point at it. Older folders are removed
 * last. Both the worker (writes, reads on resume) and the main process (does one exist?) use it.
 *
 * state.json records each blob's size and sha256. Reading back a checkpoint that `latest.json`
 * names but that is missing, truncated or altered throws a LabError saying what is wrong: a
 * resumed run must never silently start again from step 0 (issue 13). No checkpoint at all (no
 * `latest.json`) is `null`, a fresh start.
 */
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { LabError } from '../../../shared/errors';
import { writeFileAtomic } from '../fs-util';
import type { CheckpointData } from './kinds';

export function checkpointsDir(runDir: string): string {
  return join(runDir, 'checkpoints');
}

const BLOB_NAME = /^[A-Za-z0-9._-]{1,100}$/;

async function writeSynced(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDir(path: string): Promise<void> {
  // Makes the renames durable; some file systems refuse fsync on a folder, which is harmless.
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return;
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

export async function writeCheckpoint(runDir: string, data: CheckpointData): Promise<void> {
  if (!Number.isInteger(data.step) || data.step < 0) throw new Error(`checkpoint step must be a non-negative integer, got ${data.step}`);
  const dir = checkpointsDir(runDir);
  await mkdir(dir, { recursive: true });
  const name = `step-${String(data.step).padStart(9, '0')}`;
  const tmp = join(dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
  await mkdir(tmp);
  const blobs = Object.keys(data.blobs ?? {});
  const digests: Record<string, { bytes: number; sha256: string }> = {};
  for (const blob of blobs) {
    if (!BLOB_NAME.test(blob) || blob === 'state.json') throw new Error(`bad checkpoint blob name ${JSON.stringify(blob)}`);
    const bytes = (data.blobs ?? {})[blob] as Uint8Array;
    digests[blob] = { bytes: bytes.length, sha256: sha256(bytes) };
    await writeSynced(join(tmp, blob), bytes);
  }
  await writeSynced(join(tmp, 'state.json'), JSON.stringify({ step: data.step, state: data.state, blobs, digests }));
  await syncDir(tmp);
  await rm(join(dir, name), { recursive: true, force: true });
  await rename(tmp, join(dir, name));
  await syncDir(dir);
  await writeFileAtomic(join(dir, 'latest.json'), JSON.stringify({ name, step: data.step }));
  for (const entry of await readdir(dir)) {
    // One writer per run: anything else here is an older checkpoint or a temp folder of a killed write.
    if (entry !== name && entry !== 'latest.json') await rm(join(dir, entry), { recursive: true, force: true });
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The newest complete checkpoint; null when the run has none (no `latest.json`). Throws a LabError
 * when `latest.json` names a checkpoint that cannot be read back whole: its folder or a blob is
 * missing, a blob's size or sha256 differs from what was written, or state.json is not JSON.
 */
export async function readCheckpoint(runDir: string): Promise<CheckpointData | null> {
  const dir = checkpointsDir(runDir);
  let text: string;
  try {
    text = await readFile(join(dir, 'latest.json'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw damaged(dir, 'latest.json', `cannot be read (${(error as Error).message})`);
  }
  let latest: { name: unknown };
  try {
    latest = JSON.parse(text) as { name: unknown };
  } catch {
    throw damaged(dir, 'latest.json', 'is not JSON');
  }
  if (typeof latest.name !== 'string' || !/^step-\d+$/.test(latest.name)) throw damaged(dir, 'latest.json', 'names no checkpoint folder');
  const name = latest.name;
  let meta: { step: number; state: unknown; blobs: string[]; digests?: Record<string, { bytes: number; sha256: string }> };
  try {
    meta = JSON.parse(await readFile(join(dir, name, 'state.json'), 'utf8')) as typeof meta;
  } catch (error) {
    throw damaged(dir, `${name}/state.json`, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : 'cannot be read as JSON');
  }
  if (!Number.isInteger(meta.step) || !Array.isArray(meta.blobs)) throw damaged(dir, `${name}/state.json`, 'has no step or blob list');
  const blobs: Record<string, Uint8Array> = {};
  for (const blob of meta.blobs) {
    if (typeof blob !== 'string' || !BLOB_NAME.test(blob)) throw damaged(dir, `${name}/state.json`, `lists a bad blob name ${JSON.stringify(blob)}`);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(join(dir, name, blob)));
    } catch {
      throw damaged(dir, `${name}/${blob}`, 'is missing');
    }
    const digest = meta.digests?.[blob];
    if (digest && digest.bytes !== bytes.length) throw damaged(dir, `${name}/${blob}`, `has ${bytes.length} bytes, ${digest.bytes} were written (truncated?)`);
    if (digest && digest.sha256 !== sha256(bytes)) throw damaged(dir, `${name}/${blob}`, 'does not have the sha256 it was written with');
    blobs[blob] = bytes;
  }
  return { step: meta.step, state: meta.state, blobs };
}

function damaged(dir: string, file: string, what: string): LabError {
  return new LabError(`the checkpoint in ${dir} is damaged: ${file} ${what}. The run cannot resume from it; start a new run (nothing was overwritten)`, 'ValidationError');
}

/** Whether a complete checkpoint exists, without reading its blobs (the main process asks this). */
export async function hasCheckpoint(runDir: string): Promise<boolean> {
  try {
    const dir = checkpointsDir(runDir);
    const latest = JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8')) as { name: unknown };
    if (typeof latest.name !== 'string' || !/^step-\d+$/.test(latest.name)) return false;
    JSON.parse(await readFile(join(dir, latest.name, 'state.json'), 'utf8'));
    return true;
  } catch {
    return false;
  }
}
