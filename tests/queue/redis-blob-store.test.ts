/**
 * The Redis blob store against a real redis-server: bytes and files round-trip chunked (a blob of
 * several chunks), putting the same content twice stores it once, and a tampered or missing chunk
 * is refused (BlobIntegrityError / NotFoundError), never returned or written to disk.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/main/core/queue/connection';
import { RedisBlobStore } from '../../src/main/core/queue/redis-blob-store';
import { BlobIntegrityError, sha256Bytes } from '../../src/main/core/transfer/blob-store';
import { startRedis } from '../helpers/redis';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();

describe('the Redis blob store', () => {
  it('round-trips chunked blobs, stores a blob once and refuses tampered or missing chunks', async () => {
    const dir = await tmp();
    const redis = await startRedis(dir);
    const { client } = await connectRedis(redis.url('worker'));
    try {
      const store = new RedisBlobStore(client, 1000);
      const bytes = new Uint8Array(randomBytes(3500));
      const id = await store.put(bytes);
      expect(id).toBe(sha256Bytes(bytes));
      expect(await store.has(id)).toBe(true);
      expect(await client.get(`miad:blob:${id}`)).toBe(JSON.stringify({ size: 3500, chunks: 4 }));
      expect(Buffer.from(await store.get(id)).equals(Buffer.from(bytes))).toBe(true);

      const file = join(dir, 'in.bin');
      await writeFile(file, bytes);
      expect(await store.put({ file })).toBe(id);
      await store.getFile(id, join(dir, 'out', 'copy.bin'));
      expect((await readFile(join(dir, 'out', 'copy.bin'))).equals(Buffer.from(bytes))).toBe(true);
      const empty = await store.put(new Uint8Array(0));
      expect((await store.get(empty)).length).toBe(0);

      // One byte of one chunk changed in Redis: refused, and nothing lands at the destination.
      const chunk = (await client.getBuffer(`miad:blob:${id}:2`))!;
      chunk[0] = chunk[0]! ^ 0xff;
      await client.set(`miad:blob:${id}:2`, chunk);
      await expect(store.get(id)).rejects.toBeInstanceOf(BlobIntegrityError);
      await expect(store.getFile(id, join(dir, 'bad.bin'))).rejects.toThrow(/is corrupted/);
      expect(existsSync(join(dir, 'bad.bin'))).toBe(false);
      await client.del(`miad:blob:${id}:3`);
      await expect(store.get(id)).rejects.toThrow(/chunk 3 of 4 is missing/);
      await expect(store.get('c'.repeat(64))).rejects.toThrow(/is not in the queue's store/);
      await expect(store.get('../etc')).rejects.toBeInstanceOf(BlobIntegrityError);
    } finally {
      client.disconnect();
    }
  });
});
