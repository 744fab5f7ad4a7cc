/**
 * Issue 20, defect 3: both file doors (the server's `/api/file` and the desktop's `miad-file:`)
 * serve only files the store knows: samples' images and masks, edited masks (current and in the
 * history), thumbnails, DRAEM previews and a known run's pictures; each with a fixed image content
 * type by extension and `nosniff`. Everything else under the workspace or a dataset root (the
 * database, a secret beside the dataset, an unregistered picture, HTML or SVG) is refused with 403,
 * whether it exists or not. One real host behind both doors: the rule is the host's, not a door's.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Annotation } from '../../src/shared/calls/annotate';
import { fileProtocolUrl } from '../../src/shared/files';
import { encodePng } from '../../src/main/core/image/png';
import { insertRun } from '../../src/main/core/store/runs-repo';
import { startLabServer, type LabServer } from '../../src/main/server/server';
import { createFileProtocolHandler } from '../../src/main/electron/protocol';
import { useTmpDirs } from '../helpers/tmp';
import { H, W, maskPng, openSmallWorkspace } from '../annotate/helpers';

const tmp = useTmpDirs();
let server: LabServer;
let opened: Awaited<ReturnType<typeof openSmallWorkspace>>;
let data: string;
const allowed: { path: string; type: string }[] = [];
const refused: string[] = [];
const PNG = encodePng(new Uint8Array(W * H).fill(40), W, H, 1);

async function put(path: string, bytes: string | Uint8Array = PNG): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  return path;
}

beforeAll(async () => {
  opened = await openSmallWorkspace(await tmp());
  const { host, dir, id } = opened;
  data = join(dir, 'datasets', 'miad-mini');
  const crack = id('wind_turbine/test/crack/000.png');
  const first = (await host.invoke('annotate:saveMask', { sampleId: crack, png: maskPng([1, 2]) })) as Annotation;
  const current = (await host.invoke('annotate:saveMask', { sampleId: crack, png: maskPng([3]) })) as Annotation;
  const thumbs = (await host.invoke('library:thumbnails', { ids: [crack] })) as { items: { path: string | null; error: string | null }[] };
  expect(thumbs.items[0]!.error).toBeNull();
  const lab = host.currentLab()!;
  const runId = insertRun(lab.store, { name: 'r', kind: 'internal', method: 'patchcore', scenarios: ['wind_turbine'], datasetRoot: data, config: {}, status: 'done' });
  const runDir = lab.jobs.runDir(runId);

  allowed.push(
    { path: join(data, 'wind_turbine/test/crack/000.png'), type: 'image/png' },
    { path: join(data, 'wind_turbine/ground_truth/crack/000_mask.png'), type: 'image/png' },
    { path: current.maskPath!, type: 'image/png' },
    { path: first.maskPath!, type: 'image/png' }, // an older version, in the history
    { path: thumbs.items[0]!.path!, type: 'image/webp' },
    { path: await put(join(runDir, 'samples', 'wind_turbine_test_crack_000-map.png')), type: 'image/png' },
    { path: await put(join(runDir, 'heatmaps', 'test_crack_000.png.png')), type: 'image/png' },
    { path: await put(join(dir, 'previews', 'draem', '0123456789abcdef', '00-image.png')), type: 'image/png' },
  );
  refused.push(
    join(dir, 'lab.sqlite'),
    await put(join(data, 'secret.txt'), 'do-not-serve-1234'),
    await put(join(data, '.ssh', 'id_rsa'), 'do-not-serve-1234'),
    await put(join(data, 'evil.html'), '<script>alert(1)</script>'),
    await put(join(data, 'evil.svg'), '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    await put(join(data, 'wind_turbine/test/crack/unregistered.png')),
    await put(join(dir, 'masks', String(current.datasetId), `${crack}.stray.png`)),
    await put(join(dir, 'thumbs', 'ab', 'evil.html'), '<script>alert(1)</script>'),
    await put(join(dir, 'notes.png')),
    await put(join(runDir, 'config.json'), '{}'),
    await put(join(lab.jobs.runDir(runId + 100), 'samples', 'a.png')),
    join(data, 'wind_turbine/test/crack/missing.png'),
  );
  server = await startLabServer({ host, staticDir: await tmp(), port: 0, token: 'served-files-token' });
});

afterAll(async () => {
  await server.close();
  await opened.host.close();
});

/** The server door. */
async function viaHttp(path: string) {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/file?path=${encodeURIComponent(path)}&token=served-files-token`);
  return { status: res.status, type: res.headers.get('content-type'), nosniff: res.headers.get('x-content-type-options'), body: Buffer.from(await res.arrayBuffer()) };
}

/** The desktop door, over the same host; net.fetch stands in as a reader that sniffs a type of its own. */
async function viaProtocol(path: string) {
  const handler = createFileProtocolHandler({
    host: opened.host,
    fetchFile: async (url) => new Response(await readFile(fileURLToPath(url)), { headers: { 'content-type': 'text/html' } }),
    logError: () => undefined,
  });
  const res = await handler(new Request(fileProtocolUrl(path)));
  return { status: res.status, type: res.headers.get('content-type'), nosniff: res.headers.get('x-content-type-options'), body: Buffer.from(await res.arrayBuffer()) };
}

describe.each([
  ['/api/file', viaHttp],
  ['miad-file:', viaProtocol],
])('%s serves only files the store knows', (_door, get) => {
  it('serves samples, masks (current and history), thumbnails, previews and run pictures with a fixed image type and nosniff', async () => {
    for (const { path, type } of allowed) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.type, path).toBe(type);
      expect(res.nosniff, path).toBe('nosniff');
      expect(res.body.equals(await readFile(path)), path).toBe(true);
    }
  });

  it('refuses everything else under the workspace and the dataset root with 403, existing or not', async () => {
    for (const path of refused) {
      const res = await get(path);
      expect(res.status, path).toBe(403);
      expect(res.body.toString()).not.toMatch(/do-not-serve|<script|SQLite format/);
    }
  });

  it('a known place with no file is 404 (a thumbnail not made yet)', async () => {
    expect((await get(join(opened.dir, 'thumbs', 'zz', 'missing.webp'))).status).toBe(404);
  });
});
