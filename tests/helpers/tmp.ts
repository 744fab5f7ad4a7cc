/** Temporary folders for tests, removed after the test file. */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export function useTmpDirs(): () => Promise<string> {
  const made: string[] = [];
  afterAll(async () => {
    await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'miad-test-'));
    made.push(dir);
    return dir;
  };
}

/**
 * The sha256 of a file's bytes, for asserting two files are identical: `toEqual` on two Buffers walks
 * them element by element (minutes and gigabytes for a 64 MB model file).
 */
export async function fileDigest(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}
