/**
 * Checkpoint files of a run: `runs/<id>/checkpoints/step-<n>/` (state.json plus one file per
 * blob) and `checkpoints/latest.json` naming the newest complete one.
 *
 * Written so a kill at any instant leaves the previous checkpoint usable: the new folder is
 * filled under a temporary name with every file fsynced, renamed into place, and only then does
 * `latest.json` (itself written temp + fsync + rename) point at it. Older folders are removed
 * last. Both the worker (writes, reads on resume) and the main process (does one exist?) use it.
 */
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
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
  for (const blob of blobs) {
    if (!BLOB_NAME.test(blob) || blob === 'state.json') throw new Error(`bad checkpoint blob name ${JSON.stringify(blob)}`);
    await writeSynced(join(tmp, blob), (data.blobs ?? {})[blob] as Uint8Array);
  }
  await writeSynced(join(tmp, 'state.json'), JSON.stringify({ step: data.step, state: data.state, blobs }));
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

/** The newest complete checkpoint, or null when there is none (or it cannot be read back). */
export async function readCheckpoint(runDir: string): Promise<CheckpointData | null> {
  const dir = checkpointsDir(runDir);
  let latest: { name: string; step: number };
  try {
    latest = JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8')) as { name: string; step: number };
  } catch {
    return null;
  }
  if (typeof latest.name !== 'string' || !/^step-\d+$/.test(latest.name)) return null;
  try {
    const meta = JSON.parse(await readFile(join(dir, latest.name, 'state.json'), 'utf8')) as { step: number; state: unknown; blobs: string[] };
    const blobs: Record<string, Uint8Array> = {};
    for (const blob of meta.blobs) {
      if (!BLOB_NAME.test(blob)) return null;
      blobs[blob] = new Uint8Array(await readFile(join(dir, latest.name, blob)));
    }
    return { step: meta.step, state: meta.state, blobs };
  } catch {
    return null;
  }
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
