import { mkdtempSync, mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileProtocolUrl } from '../../src/shared/files';
import { LabError } from '../../src/shared/errors';
import { createFileProtocolHandler, registerFileScheme } from '../../src/main/electron/protocol';

// A real 1×1 RGBA PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

let base: string;
let root: string;

/**
 * Confines like the real host: realpath (follows symlinks, removes ..), then must lie under the
 * root. The adapter's job under test is mapping this answer to a response.
 */
async function resolveAllowedFile(requested: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(requested);
  } catch {
    throw new LabError(`no such file: ${requested}`, 'NotFoundError');
  }
  if (!real.startsWith(root + sep)) throw new LabError(`outside the allowed folders: ${requested}`, 'ForbiddenError');
  return real;
}

/** Stands in for net.fetch on file:// URLs: the bytes from disk with an image MIME type. */
async function fetchFile(url: string): Promise<Response> {
  const bytes = await readFile(fileURLToPath(url));
  return new Response(bytes, { status: 200, headers: { 'content-type': url.endsWith('.png') ? 'image/png' : 'application/octet-stream' } });
}

const handler = createFileProtocolHandler({ host: { resolveAllowedFile }, fetchFile, logError: () => {} });
const get = (url: string, method = 'GET') => handler(new Request(url, { method }));

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'miad-protocol-')));
  root = join(base, 'workspace');
  mkdirSync(join(root, 'masks'), { recursive: true });
  writeFileSync(join(root, 'masks', 'a b#1.png'), PNG);
  writeFileSync(join(base, 'secret.txt'), 'do not serve');
  symlinkSync(join(base, 'secret.txt'), join(root, 'link-out.png'));
  symlinkSync(join(root, 'masks', 'a b#1.png'), join(root, 'link-in.png'));
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('miad-file protocol handler', () => {
  it('serves an allowed file with its exact bytes (spaces and # in the name)', async () => {
    const response = await get(fileProtocolUrl(join(root, 'masks', 'a b#1.png')));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(Buffer.from(await response.arrayBuffer()).equals(PNG)).toBe(true);
  });

  it('serves a symlink that stays inside the root', async () => {
    const response = await get(fileProtocolUrl(join(root, 'link-in.png')));
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(PNG)).toBe(true);
  });

  it('refuses ../ escapes, paths outside the roots and symlinks pointing out with 403', async () => {
    for (const path of [`${root}/masks/../../secret.txt`, join(base, 'secret.txt'), join(root, 'link-out.png')]) {
      const response = await get(fileProtocolUrl(path));
      expect(response.status, path).toBe(403);
      expect(await response.text()).not.toContain('do not serve');
    }
  });

  it('answers 404 for a file that does not exist', async () => {
    const response = await get(fileProtocolUrl(join(root, 'masks', 'missing.png')));
    expect(response.status).toBe(404);
  });

  it('answers 404 when the file vanishes between the check and the read', async () => {
    const racing = createFileProtocolHandler({
      host: { resolveAllowedFile: async (p) => p },
      fetchFile: () => Promise.reject(new Error('net::ERR_FILE_NOT_FOUND')),
    });
    expect((await racing(new Request(fileProtocolUrl(join(root, 'gone.png'))))).status).toBe(404);
  });

  it('answers 400 for a URL that names no path', async () => {
    for (const url of ['miad-file://local/', 'miad-file://local/%E0%A4%A', 'miad-file://other/%2Ftmp%2Fx.png']) {
      const response = await get(url);
      expect(response.status, url).toBe(400);
    }
  });

  it('answers 500 without details when the host fails unexpectedly', async () => {
    const failing = createFileProtocolHandler({
      host: { resolveAllowedFile: () => Promise.reject(new Error('database is locked at /secret/path')) },
      fetchFile,
      logError: () => {},
    });
    const response = await failing(new Request(fileProtocolUrl(join(root, 'masks', 'a b#1.png'))));
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('/secret/path');
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const head = await get(fileProtocolUrl(join(root, 'masks', 'a b#1.png')), 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
    expect((await get(fileProtocolUrl(join(root, 'masks', 'a b#1.png')), 'POST')).status).toBe(405);
  });
});

describe('registerFileScheme', () => {
  it('registers miad-file as a standard, secure, fetchable, streamable scheme without bypassing CSP', () => {
    const registered: unknown[] = [];
    registerFileScheme({ registerSchemesAsPrivileged: (schemes) => void registered.push(...schemes) });
    expect(registered).toEqual([
      { scheme: 'miad-file', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, corsEnabled: true } },
    ]);
  });
});
