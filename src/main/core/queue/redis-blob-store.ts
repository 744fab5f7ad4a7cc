/**
 * The content-addressed blob store (transfer/blob-store.ts BlobStore) kept in the queue's Redis, so
 * workers and the coordinator share datasets, checkpoints and runs without a shared file system.
 *
 * A blob is chunked (1 MiB per key, `miad:blob:<sha256>:<n>`) so no single Redis value is huge,
 * and its head `miad:blob:<sha256>` ({size, chunks}) is written last: a blob whose head exists is
 * complete, and a writer killed halfway leaves only chunks a later put overwrites with the same
 * bytes. Every read is checked against the id (verifyBlob), so a corrupted or tampered chunk is a
 * BlobIntegrityError, never a wrong file.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import { LabError } from '../../../shared/errors';
import { checkBlobId, sha256Bytes, verifyBlob, writeVerifiedFile, type BlobSource, type BlobStore } from '../transfer/blob-store';
import { KEY_PREFIX } from './connection';

export const CHUNK_BYTES = 1 << 20;

interface Head {
  size: number;
  chunks: number;
}

export class RedisBlobStore implements BlobStore {
  constructor(
    private readonly redis: Redis,
    private readonly chunkBytes = CHUNK_BYTES,
  ) {}

  private headKey(id: string): string {
    return `${KEY_PREFIX}:blob:${checkBlobId(id)}`;
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.redis.exists(this.headKey(sha256))) === 1;
  }

  async put(source: BlobSource): Promise<string> {
    if (source instanceof Uint8Array) {
      const id = sha256Bytes(source);
      if (await this.has(id)) return id;
      await this.write(id, source.length, async (i) => source.subarray(i * this.chunkBytes, (i + 1) * this.chunkBytes));
      return id;
    }
    // A file: hashed in one pass, uploaded chunk by chunk in a second (never whole in memory).
    const handle = await open(source.file, 'r');
    try {
      const { size } = await handle.stat();
      const hash = createHash('sha256');
      const buffer = Buffer.alloc(this.chunkBytes);
      for (let at = 0; at < size; ) {
        const { bytesRead } = await handle.read(buffer, 0, this.chunkBytes, at);
        if (bytesRead === 0) throw new LabError(`${source.file} shrank while it was being stored`);
        hash.update(buffer.subarray(0, bytesRead));
        at += bytesRead;
      }
      const id = hash.digest('hex');
      if (await this.has(id)) return id;
      await this.write(id, size, async (i) => {
        const chunk = Buffer.alloc(Math.min(this.chunkBytes, size - i * this.chunkBytes));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, i * this.chunkBytes);
        if (bytesRead !== chunk.length) throw new LabError(`${source.file} changed while it was being stored`);
        return chunk;
      });
      return id;
    } finally {
      await handle.close();
    }
  }

  private async write(id: string, size: number, chunk: (i: number) => Promise<Uint8Array>): Promise<void> {
    const head = this.headKey(id);
    const chunks = Math.max(1, Math.ceil(size / this.chunkBytes));
    for (let i = 0; i < chunks; i++) await this.redis.set(`${head}:${i}`, Buffer.from(await chunk(i)));
    await this.redis.set(head, JSON.stringify({ size, chunks } satisfies Head));
  }

  async get(sha256: string): Promise<Uint8Array> {
    const head = this.headKey(sha256);
    const text = await this.redis.get(head);
    if (text === null) throw new LabError(`blob ${sha256.slice(0, 16)}… is not in the queue's store`, 'NotFoundError');
    let meta: Head;
    try {
      meta = JSON.parse(text) as Head;
      if (!Number.isInteger(meta.size) || !Number.isInteger(meta.chunks) || meta.chunks < 1 || meta.chunks > 1 + meta.size / this.chunkBytes) throw new Error('bad head');
    } catch {
      return verifyBlob(sha256, new Uint8Array(0));
    }
    const parts: Buffer[] = [];
    for (let i = 0; i < meta.chunks; i++) {
      const part = await this.redis.getBuffer(`${head}:${i}`);
      if (part === null) throw new LabError(`blob ${sha256.slice(0, 16)}… is incomplete in the queue's store (chunk ${i} of ${meta.chunks} is missing)`, 'NotFoundError');
      parts.push(part);
    }
    return verifyBlob(sha256, new Uint8Array(Buffer.concat(parts)));
  }

  async getFile(sha256: string, dest: string): Promise<void> {
    await writeVerifiedFile(sha256, await this.get(sha256), dest);
  }
}
