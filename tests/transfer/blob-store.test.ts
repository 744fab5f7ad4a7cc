/**
 * The `file://` blob store (transfer/blob-store.ts): content-addressed, every read checked by
 * sha256, files streamed in and out, and a corrupted blob refused without leaving a file behind.
 */
import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BlobIntegrityError, DirBlobStore, openBlobStore } from '../../src/main/core/transfer/blob-store';
import { fileDigest, useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('DirBlobStore', () => {
  it('stores bytes and files under their sha256 and gives them back checked', async () => {
    const root = await tmp();
    const blobs = openBlobStore(pathToFileURL(join(root, 'store')).href);
    const bytes = new TextEncoder().encode('hello blobs');
    const id = await blobs.put(bytes);
    expect(id).toBe(sha(bytes));
    expect(await blobs.put(bytes)).toBe(id);
    expect(await blobs.has(id)).toBe(true);
    expect(Buffer.from(await blobs.get(id)).toString()).toBe('hello blobs');
    // A file of several stream chunks goes in and out streamed, byte for byte.
    const big = randomBytes(3 * (1 << 20) + 17);
    await writeFile(join(root, 'big.bin'), big);
    const bigId = await blobs.put({ file: join(root, 'big.bin') });
    expect(bigId).toBe(sha(big));
    await blobs.getFile(bigId, join(root, 'out', 'nested', 'big.bin'));
    expect(await fileDigest(join(root, 'out', 'nested', 'big.bin'))).toBe(bigId);
    expect(await blobs.has(sha(new Uint8Array([1])))).toBe(false);
    await expect(blobs.get(sha(new Uint8Array([1])))).rejects.toThrow(/is not in the store/);
    // No temp files are left in the store.
    expect((await readdir(join(root, 'store'), { recursive: true })).filter((p) => String(p).endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a corrupted blob on get and getFile, and leaves no file at the destination', async () => {
    const root = await tmp();
    const blobs = new DirBlobStore(join(root, 'store'));
    const id = await blobs.put(new TextEncoder().encode('the original content'));
    const path = join(root, 'store', 'sha256', id.slice(0, 2), id);
    await writeFile(path, 'the tampered content');
    await expect(blobs.get(id)).rejects.toThrow(BlobIntegrityError);
    await expect(blobs.get(id)).rejects.toThrow(/is corrupted: its 20 bytes have sha256/);
    const dest = join(root, 'out', 'file.txt');
    await expect(blobs.getFile(id, dest)).rejects.toThrow(/is corrupted/);
    expect(existsSync(dest)).toBe(false);
    expect(await readdir(join(root, 'out'))).toEqual([]);
    expect((await readFile(path, 'utf8'))).toBe('the tampered content');
  });

  it('takes only sha256 ids, so an id never reaches a path outside the store', async () => {
    const root = await tmp();
    const blobs = new DirBlobStore(join(root, 'store'));
    await expect(blobs.get('../../etc/passwd')).rejects.toThrow(/not a blob id/);
    await expect(blobs.getFile('A'.repeat(64), join(root, 'x'))).rejects.toThrow(/not a blob id/);
    expect(() => openBlobStore('s3://bucket')).toThrow(/unknown blob store/);
    expect(() => new DirBlobStore('relative/dir')).toThrow(/absolute path/);
  });
});
