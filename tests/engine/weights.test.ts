// The weights manager against a local HTTP server on 127.0.0.1 that supports Range and can cut
// the connection mid-way: resume, checksum refusal, offline message, import checks by tensor name.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, stat, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WeightsManager, WEIGHTS_CATALOG, type WeightsEntry } from '../../src/main/core/engine/weights';
import { encodeSafetensors } from '../../src/main/core/engine/safetensors';
import { randomResNetWeights } from '../../src/main/core/engine/backbones/resnet';

interface ServerState {
  body: Uint8Array;
  /** Cut the connection after this many body bytes, for the next `cuts` responses. */
  cutAfter: number;
  cuts: number;
  ignoreRange: boolean;
  requests: { range: string | undefined }[];
  /**
   * When set, the cut waits until this says the client holds every byte sent: a fetch body that
   * errors drops the chunks still queued in its stream, so cutting earlier keeps a timing-dependent
   * number of bytes.
   */
  cutWhen?: () => Promise<boolean>;
}

const state: ServerState = { body: new Uint8Array(0), cutAfter: 0, cuts: 0, ignoreRange: false, requests: [] };

async function cutLater(res: ServerResponse, when: (() => Promise<boolean>) | undefined): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (when && !(await when()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  if (!when) await new Promise((r) => setTimeout(r, 20));
  res.socket?.destroy();
}
let server: Server;
let base = '';
let root = '';

function handler(req: IncomingMessage, res: ServerResponse): void {
  state.requests.push({ range: req.headers.range });
  const body = state.body;
  let start = 0;
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (m && !state.ignoreRange) {
    start = Number(m[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` });
      res.end();
      return;
    }
    res.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': body.length - start });
  } else {
    res.writeHead(200, { 'content-length': body.length });
  }
  const rest = body.subarray(start);
  if (state.cuts > 0) {
    state.cuts--;
    // Send part of the body, then drop the socket as a flaky network would.
    const when = state.cutWhen;
    res.write(rest.subarray(0, state.cutAfter), () => void cutLater(res, when));
    return;
  }
  res.end(rest);
}

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function blobEntry(id: string, body: Uint8Array, withHash = true): WeightsEntry {
  return { id, arch: 'test-blob', repo: 'local/test', url: `${base}/${id}/model.safetensors`, bytes: null, sha256: withHash ? sha(body) : null, sizeHint: '?', usedBy: [] };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'weights-'));
  server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(root, { recursive: true, force: true });
});

function payload(n: number, seed: number): Uint8Array {
  // A valid safetensors file of one F32 tensor, so the structure check passes.
  const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i * seed));
  return encodeSafetensors({ w: { shape: [n], data } });
}

describe('weights catalogue', () => {
  it('names the timm files with hub addresses and never invents a hash', () => {
    const wrn = WEIGHTS_CATALOG.find((e) => e.id === 'wide_resnet50_2.tv_in1k');
    expect(wrn?.url).toBe('https://huggingface.co/timm/wide_resnet50_2.tv_in1k/resolve/main/model.safetensors');
    expect(wrn?.sha256).toBe('df6fb6c4824769769de18e14088475fd6ee94236849aa4e5d8022ba9d9a9a16c');
    expect(WEIGHTS_CATALOG.find((e) => e.id === 'resnet18.tv_in1k')?.sha256).toBeNull();
    expect(WEIGHTS_CATALOG.find((e) => e.id === 'efficientnet_b4.ra2_in1k')?.sha256).toBeNull();
    expect(WEIGHTS_CATALOG.find((e) => e.id === 'resnet18.tv_in1k')?.sizeHint).toBe('~47 MB (estimate)');
  });
});

describe('weights download', () => {
  it('downloads with progress, checks the hash and renames into place', async () => {
    state.body = payload(300_000, 1);
    state.requests = [];
    const entry = blobEntry('plain', state.body);
    const ws = join(root, 'ws-plain');
    const progress: number[] = [];
    const m = new WeightsManager({ workspaceDir: ws, catalog: [entry], progressEvery: 100_000 });
    const s = await m.fetch('plain', { onProgress: (p) => progress.push(p.received) });
    expect(s.present).toBe(true);
    expect(s.local?.sha256).toBe(entry.sha256);
    expect(s.local?.matchesPublished).toBe(true);
    expect(sha(await readFile(m.pathFor('plain')))).toBe(sha(state.body));
    expect(progress.at(-1)).toBe(state.body.length);
    expect(progress.length).toBeGreaterThan(2);
    expect((await readdir(join(ws, 'weights'))).sort()).toEqual(['plain.json', 'plain.safetensors']);
    expect((await m.verify('plain')).ok).toBe(true);
  });

  it('resumes with a Range request after the connection is cut mid-way', async () => {
    state.body = payload(400_000, 2);
    state.requests = [];
    state.cuts = 1;
    state.cutAfter = 500_000;
    const entry = blobEntry('cut', state.body);
    const m = new WeightsManager({ workspaceDir: join(root, 'ws-cut'), catalog: [entry] });
    const s = await m.fetch('cut');
    expect(s.present).toBe(true);
    expect(state.requests.map((r) => r.range)).toEqual([undefined, 'bytes=500000-']);
    expect(sha(await readFile(m.pathFor('cut')))).toBe(sha(state.body));
  });

  it('keeps the .part when retries run out, and the next fetch resumes it', async () => {
    state.body = payload(400_000, 3);
    state.requests = [];
    state.cuts = 1;
    state.cutAfter = 700_000;
    const entry = blobEntry('later', state.body);
    const m = new WeightsManager({ workspaceDir: join(root, 'ws-later'), catalog: [entry], retries: 0 });
    const part = join(root, 'ws-later', 'weights', 'later.safetensors.part');
    state.cutWhen = async () => (await stat(part).catch(() => null))?.size === 700_000;
    try {
      await expect(m.fetch('later')).rejects.toThrow(/interrupted .*700000 bytes kept.*run the fetch again to resume/);
    } finally {
      delete state.cutWhen;
    }
    expect((await m.status('later')).partialBytes).toBe(700_000);
    const s = await m.fetch('later');
    expect(s.present).toBe(true);
    expect(state.requests.map((r) => r.range)).toEqual([undefined, 'bytes=700000-']);
    expect((await m.status('later')).partialBytes).toBeNull();
  });

  it('starts over when the server ignores the Range header', async () => {
    state.body = payload(200_000, 4);
    state.requests = [];
    state.cuts = 1;
    state.cutAfter = 300_000;
    state.ignoreRange = true;
    try {
      const entry = blobEntry('norange', state.body);
      const m = new WeightsManager({ workspaceDir: join(root, 'ws-norange'), catalog: [entry] });
      await m.fetch('norange');
      expect(sha(await readFile(m.pathFor('norange')))).toBe(sha(state.body));
    } finally {
      state.ignoreRange = false;
    }
  });

  it('refuses a checksum mismatch and leaves nothing in the cache', async () => {
    state.body = payload(100_000, 5);
    const entry = { ...blobEntry('tampered', state.body), sha256: sha(payload(100_000, 6)) };
    const m = new WeightsManager({ workspaceDir: join(root, 'ws-bad'), catalog: [entry] });
    await expect(m.fetch('tampered')).rejects.toThrow(/refused: sha256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}/);
    const s = await m.status('tampered');
    expect(s.present).toBe(false);
    expect(s.partialBytes).toBeNull();
  });

  it('refuses a download that is not a valid safetensors file', async () => {
    state.body = new TextEncoder().encode('<html>not found</html>');
    const m = new WeightsManager({ workspaceDir: join(root, 'ws-html'), catalog: [blobEntry('html', state.body, false)] });
    await expect(m.fetch('html')).rejects.toThrow(/refused: .*not a valid safetensors file|refused: .*truncated/);
  });

  it('reports HTTP errors', async () => {
    const entry = { ...blobEntry('gone', new Uint8Array(1)), url: `${base}/gone` };
    const m = new WeightsManager({
      workspaceDir: join(root, 'ws-404'),
      catalog: [entry],
      fetchImpl: async () => new Response('no', { status: 404, statusText: 'Not Found' }),
    });
    await expect(m.fetch('gone')).rejects.toThrow(/HTTP 404 Not Found/);
  });

  it('offline: says so and how to import', async () => {
    // A port nothing listens on: connection refused, as with no network.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const entry = { ...blobEntry('offline', new Uint8Array(1)), url: `http://127.0.0.1:${port}/model.safetensors` };
    const ws = join(root, 'ws-offline');
    const m = new WeightsManager({ workspaceDir: ws, catalog: [entry] });
    await expect(m.fetch('offline')).rejects.toThrow(
      new RegExp(`unreachable \\(ECONNREFUSED\\).*offline.*miad-lab weights import --workspace ${ws} --id offline FILE`),
    );
  });
});

describe('weights import', () => {
  const resnet18 = WEIGHTS_CATALOG.find((e) => e.id === 'resnet18.tv_in1k')!;

  it('imports a file that loads as the architecture, and verify re-checks it', async () => {
    const file = join(root, 'r18.safetensors');
    await writeFile(file, encodeSafetensors(randomResNetWeights('resnet18', 3)));
    const m = new WeightsManager({ workspaceDir: join(root, 'ws-import') });
    const s = await m.import('resnet18.tv_in1k', file);
    expect(s.present).toBe(true);
    expect(s.local?.source).toBe('import');
    expect(s.local?.structure).toBe('checked');
    expect(s.local?.matchesPublished).toBeNull();
    expect((await stat(m.pathFor('resnet18.tv_in1k'))).size).toBe((await stat(file)).size);
    const v = await m.verify('resnet18.tv_in1k');
    expect(v).toMatchObject({ ok: true, structure: 'checked' });
    // A changed cached file is caught.
    await writeFile(m.pathFor('resnet18.tv_in1k'), encodeSafetensors(randomResNetWeights('resnet18', 4)));
    expect((await m.verify('resnet18.tv_in1k')).problems.join()).toMatch(/file changed since it was stored/);
    expect(resnet18.arch).toBe('resnet18');
  });

  it('refuses a file with a missing tensor or a wrong shape, naming the tensor', async () => {
    const weights = randomResNetWeights('resnet18', 3);
    weights.delete('layer3.1.bn2.running_var');
    const file = join(root, 'missing.safetensors');
    await writeFile(file, encodeSafetensors(weights));
    const m = new WeightsManager({ workspaceDir: join(root, 'ws-refuse') });
    await expect(m.import('resnet18.tv_in1k', file)).rejects.toThrow(/cannot be imported as resnet18\.tv_in1k: tensor 'layer3\.1\.bn2\.running_var' is missing/);
    const w2 = randomResNetWeights('resnet18', 3);
    w2.set('layer2.0.conv1.weight', { shape: [128, 64, 1, 3], data: new Float32Array(128 * 64 * 3) });
    await writeFile(file, encodeSafetensors(w2));
    await expect(m.import('resnet18.tv_in1k', file)).rejects.toThrow(/tensor 'layer2\.0\.conv1\.weight' has shape \[128, 64, 1, 3\], expected \[128, 64, 3, 3\]/);
    // wide_resnet50_2 weights are not resnet18 weights.
    await expect(m.import('wide_resnet50_2.tv_in1k', join(root, 'r18.safetensors'))).rejects.toThrow(
      /tensor 'layer1\.0\.conv1\.weight' has shape \[64, 64, 3, 3\], expected \[128, 64, 1, 1\]; .*; and \d+ more problems$/,
    );
    expect((await m.status('resnet18.tv_in1k')).present).toBe(false);
    await expect(m.import('nope', file)).rejects.toThrow(/unknown weights id "nope"/);
  });
});
