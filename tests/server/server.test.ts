import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import WebSocket from 'ws';
import { createLabHost } from '../../src/main/core/lab-host';
import { startLabServer, type LabServer } from '../../src/main/server/server';
import { CALL_BODY_MAX_BYTES } from '../../src/shared/http';
import { fakeDemo } from '../helpers/fake-demo';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let server: LabServer;
let root: string;
let base: string;
const host = { current: null as ReturnType<typeof createLabHost> | null };

beforeAll(async () => {
  root = await tmp();
  const staticDir = join(root, 'ui');
  await mkdir(join(staticDir, 'assets'), { recursive: true });
  await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>ui</title>');
  await writeFile(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(root, 'secret.txt'), 'secret');
  host.current = createLabHost({ door: 'server', configDir: join(root, 'config'), defaultWorkspacesDir: join(root, 'workspaces'), generateDemo: fakeDemo() });
  server = await startLabServer({ host: host.current, staticDir, port: 0, token: 'test-token-123' });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.close();
  await host.current?.close();
});

const auth = { authorization: 'Bearer test-token-123' };

function call(name: string, body: unknown, headers: Record<string, string> = auth) {
  return fetch(`${base}/api/call/${name}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

describe('headless server', () => {
  it('prints an address with the token and binds loopback by default', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=test-token-123`);
    expect(server.hostname).toBe('127.0.0.1');
  });

  it('GET /api/health: 200 with the token (header or query), 401 without or with a wrong one', async () => {
    expect((await fetch(`${base}/api/health`)).status).toBe(401);
    expect((await fetch(`${base}/api/health`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${base}/api/health?token=test-token-12`)).status).toBe(401);
    const ok = await fetch(`${base}/api/health`, { headers: auth });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true });
    expect((await fetch(`${base}/api/health?token=test-token-123`)).status).toBe(200);
  });

  it('calls: results, validation errors (400), unknown calls (404), malformed JSON, wrong method, no token', async () => {
    const info = await call('app:info', {});
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({ ok: true, result: { door: 'server', workspace: null, canPickFolder: false } });
    const bad = await call('workspaces:open', { dir: 7 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ ok: false, error: { name: 'ValidationError', message: expect.stringMatching(/dir/) } });
    expect((await call('nope:nope', {})).status).toBe(404);
    const malformed = await call('app:info', '{not json');
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.message).toMatch(/not valid JSON/);
    expect((await call('app:info', {}, {})).status).toBe(401);
    expect((await fetch(`${base}/api/call/app:info`, { headers: auth })).status).toBe(405);
    const huge = await call('app:info', JSON.stringify({ pad: 'x'.repeat(CALL_BODY_MAX_BYTES + 1) }));
    expect(huge.status).toBe(413);
    expect((await huge.json()).error.message).toMatch(/request body over/);
  });

  it('a call name that is not valid percent-encoding is a 400 ValidationError, not a 500 (issue 20)', async () => {
    for (const name of ['%ZZ', 'app:info%', '%E0%A4%A']) {
      const res = await call(name, {});
      expect(res.status, name).toBe(400);
      expect(await res.json()).toMatchObject({ ok: false, error: { name: 'ValidationError', message: expect.stringMatching(/malformed/) } });
    }
  });

  it('serves only files the store knows under the workspace and dataset roots (403 otherwise, 404 missing)', async () => {
    expect((await fetch(`${base}/api/file?path=${encodeURIComponent(join(root, 'secret.txt'))}`, { headers: auth })).status).toBe(403);
    const created = await (await call('workspaces:createDemo', { dir: join(root, 'ws') })).json();
    expect(created.ok).toBe(true);
    const image = join(root, 'ws/datasets/miad-mini/wind_turbine/test/crack/000.png');
    const res = await fetch(`${base}/api/file?path=${encodeURIComponent(image)}&token=test-token-123`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
    expect((await fetch(`${base}/api/file?path=${encodeURIComponent(join(root, 'ws/../secret.txt'))}`, { headers: auth })).status).toBe(403);
    expect((await fetch(`${base}/api/file?path=${encodeURIComponent('/etc/passwd')}`, { headers: auth })).status).toBe(403);
    // A picture the store does not know is refused like one outside (issue 20); a known place with no file is 404.
    expect((await fetch(`${base}/api/file?path=${encodeURIComponent(join(root, 'ws/nothing.png'))}`, { headers: auth })).status).toBe(403);
    expect((await fetch(`${base}/api/file?path=${encodeURIComponent(join(root, 'ws/thumbs/zz/nothing.webp'))}`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}/api/file`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${base}/api/file?path=${encodeURIComponent(image)}`)).status).toBe(401);
  });

  it('serves the UI with a CSP, falls back to index.html, refuses traversal and a foreign Host header', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(await (await fetch(`${base}/some/route`)).text()).toContain('<title>ui</title>');
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/assets/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    const traversal = await new Promise<number>((resolve) => {
      request({ host: '127.0.0.1', port: server.port, path: '/../../secret.txt' }, (res) => resolve(res.statusCode ?? 0)).end();
    });
    expect([200, 403]).toContain(traversal);
    // Whatever the answer, it is never the secret.
    const body = await new Promise<string>((resolve) => {
      request({ host: '127.0.0.1', port: server.port, path: '/%2e%2e/%2e%2e/secret.txt' }, (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve(data));
      }).end();
    });
    expect(body).not.toContain('secret');
    const rebinding = await new Promise<number>((resolve) => {
      request({ host: '127.0.0.1', port: server.port, path: '/api/health?token=test-token-123', headers: { host: 'evil.example:80' } }, (res) => resolve(res.statusCode ?? 0)).end();
    });
    expect(rebinding).toBe(403);
  });

  it('streams events over the WebSocket, token required', async () => {
    const refused = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`);
    await expect(new Promise((resolve, reject) => { refused.on('open', resolve); refused.on('error', reject); })).rejects.toThrow(/401/);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=test-token-123`);
    await new Promise((resolve) => ws.on('open', resolve));
    const received: { event: string }[] = [];
    ws.on('message', (data) => received.push(JSON.parse(String(data))));
    await call('workspaces:createDemo', { dir: join(root, 'ws2') });
    await new Promise((r) => setTimeout(r, 100));
    ws.close();
    expect(received.map((m) => m.event)).toEqual(expect.arrayContaining(['workspaces:demoProgress', 'workspaces:changed']));
  });

  it('refuses a WebSocket upgrade from a foreign Origin, even with the token; accepts its own origins (issue 20)', async () => {
    const opens = (origin?: string) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=test-token-123`, origin === undefined ? {} : { origin });
      return new Promise<boolean>((resolve) => {
        ws.on('open', () => {
          ws.close();
          resolve(true);
        });
        ws.on('error', () => resolve(false));
      });
    };
    expect(await opens('http://evil.example')).toBe(false);
    expect(await opens(`http://evil.example:${server.port}`)).toBe(false);
    expect(await opens(`https://127.0.0.1:${server.port}`)).toBe(false);
    expect(await opens(`http://127.0.0.1:${server.port + 1}`)).toBe(false);
    expect(await opens('null')).toBe(false);
    // The page served at either loopback name, and a client that sends no Origin (the CLI, tests).
    expect(await opens(`http://127.0.0.1:${server.port}`)).toBe(true);
    expect(await opens(`http://localhost:${server.port}`)).toBe(true);
    expect(await opens(`http://[::1]:${server.port}`)).toBe(true);
    expect(await opens()).toBe(true);
  });

  it('the CSP lets the page connect only to its own origin, not to any ws: host (issue 20)', async () => {
    const policy = (await fetch(`${base}/`)).headers.get('content-security-policy') ?? '';
    const connect = policy.split(';').map((d) => d.trim()).find((d) => d.startsWith('connect-src'));
    expect(connect).toBe("connect-src 'self'");
  });
});
