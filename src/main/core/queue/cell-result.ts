/**
 * What a worker returns for a finished cell (BullMQ's return value), validated by the coordinator
 * before it merges anything, and where a running cell's latest checkpoint is named in Redis.
 */
import { z } from 'zod';
import { KEY_PREFIX } from './connection';

const SHA256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lower-case hex');

export const cellResultSchema = z
  .object({
    v: z.literal(1),
    cellUid: z.string().min(8).max(64),
    fingerprint: SHA256,
    /** The digest of the run bundle (transfer/run-bundle.ts) in the queue's blob store. */
    runBundle: SHA256,
    /** The worker that ran it. */
    host: z.string().min(1).max(200),
    /** The step the run resumed from (a checkpoint of an earlier attempt), or null. */
    resumedFromStep: z.number().int().nonnegative().nullable(),
    codeVersion: z.string().min(1).max(100),
  })
  .strict();
export type CellResult = z.infer<typeof cellResultSchema>;

/** The Redis hash naming a running cell's latest uploaded checkpoint: `{ digest, step, host }`. */
export function checkpointKey(fingerprint: string): string {
  return `${KEY_PREFIX}:ckpt:${fingerprint}`;
}
