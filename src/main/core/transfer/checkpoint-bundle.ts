/**
 * A run's latest checkpoint (jobs/checkpoints.ts) moved to another workspace through a blob store,
 * so a cell retried on another host resumes where the first one stopped (issue 18).
 *
 * The bundle is a manifest `{ step, state, blobs: { name: { size, sha256 } } }` (canonical JSON,
 * its sha256 the digest) and one blob per checkpoint blob. Packing reads the checkpoint with
 * readCheckpoint, which refuses a damaged one; restoring fetches every blob checked by sha256 and
 * size and writes them with writeCheckpoint, the same crash-safe write a job makes, so the resumed
 * job reads it back exactly as one it wrote itself.
 */
import { z } from 'zod';
import { readCheckpoint, writeCheckpoint } from '../jobs/checkpoints';
import { BlobIntegrityError, type BlobStore } from './blob-store';
import { getManifest, putManifest } from './manifest';

export const CHECKPOINT_BUNDLE_FORMAT = 'miad-lab/checkpoint-bundle';

/** Checkpoint blob names as checkpoints.ts allows them. */
const BLOB_NAME = /^[A-Za-z0-9._-]{1,100}$/;

export const checkpointManifestSchema = z
  .object({
    format: z.literal(CHECKPOINT_BUNDLE_FORMAT),
    version: z.literal(1),
    step: z.number().int().nonnegative(),
    state: z.unknown(),
    blobs: z.record(
      z.string().regex(BLOB_NAME).refine((n) => n !== 'state.json'),
      z.object({ size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
    ),
  })
  .strict();
export type CheckpointManifest = z.infer<typeof checkpointManifestSchema>;

/** Puts the run folder's latest checkpoint into `blobs`; returns its digest, or null when the run has none. */
export async function bundleCheckpoint(runDir: string, blobs: BlobStore): Promise<{ digest: string; step: number } | null> {
  const checkpoint = await readCheckpoint(runDir);
  if (!checkpoint) return null;
  const entries: CheckpointManifest['blobs'] = {};
  for (const name of Object.keys(checkpoint.blobs ?? {}).sort()) {
    const bytes = checkpoint.blobs![name]!;
    entries[name] = { size: bytes.length, sha256: await blobs.put(bytes) };
  }
  const manifest: CheckpointManifest = { format: CHECKPOINT_BUNDLE_FORMAT, version: 1, step: checkpoint.step, state: checkpoint.state, blobs: entries };
  return { digest: await putManifest(blobs, manifest), step: checkpoint.step };
}

/**
 * Writes the bundled checkpoint as the latest checkpoint of `runDir` (made when missing). Every blob
 * is fetched and checked before anything is written; a bad one throws BlobIntegrityError.
 */
export async function restoreCheckpoint(blobs: BlobStore, digest: string, runDir: string): Promise<{ step: number }> {
  const manifest = await getManifest(blobs, digest, checkpointManifestSchema, 'checkpoint bundle');
  const data: Record<string, Uint8Array> = {};
  for (const [name, entry] of Object.entries(manifest.blobs)) {
    const bytes = await blobs.get(entry.sha256);
    if (bytes.length !== entry.size) throw new BlobIntegrityError(`checkpoint bundle ${digest.slice(0, 16)}…: ${name} has ${bytes.length} bytes, the manifest says ${entry.size}; nothing was written`);
    data[name] = bytes;
  }
  await writeCheckpoint(runDir, { step: manifest.step, state: manifest.state, blobs: data });
  return { step: manifest.step };
}
