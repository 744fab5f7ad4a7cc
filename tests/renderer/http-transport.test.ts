/**
 * The browser transport against a real HTTP + WebSocket server speaking the wire format of
 * src/shared/http.ts (Node's fetch, the `ws` client standing in for the browser's WebSocket).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createHttpTransport, reconnectDelay, type SocketLike, type Transport } from '../../src/renderer/src/lib/api/transport';

const TOKEN = 'secret-token';

interface Harness {
  server: Server;
  wss: WebSocketServer;
  origin: string;
  requests: { url: string; auth: string | undefined; body: unknown }[];
  socketUrls: string[];
}

function authorised(req: IncomingMessage): boolean {
  const url = new URL(req.url ?? '/', 'http://x');
  return req.headers.authorization === `Bearer ${TOKEN}` || url.searchParams.get('token') === TOKEN;
}

async function startServer(): Promise<Harness> {
  const requests: Harness['requests'] = [];
  const socketUrls: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body: unknown = text ? JSON.parse(text) : undefined;
      requests.push({ url: req.url ?? '', auth: req.headers.authorization, body });
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (!authorised(req)) return send(401, { ok: false, error: { name: 'UnauthorizedError', message: 'token required' } });
      if (req.url === '/api/call/app:info') return send(200, { ok: true, result: { echo: body } });
      if (req.url === '/api/call/workspaces:open') {
        return send(404, { ok: false, error: { name: 'NotFoundError', message: 'no MIAD Lab workspace at /nowhere' } });
      }
      if (req.url === '/api/call/datasets:list') {
        res.writeHead(502, { 'content-type': 'text/html' });
        return res.end('<html>bad gateway</html>');
      }
      send(404, { ok: false, error: { name: 'NotFoundError', message: `no route ${req.url}` } });
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    socketUrls.push(req.url ?? '');
    if (!authorised(req)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, wss, origin: `http://127.0.0.1:${port}`, requests, socketUrls };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

function broadcast(h: Harness, event: string, payload: unknown): void {
  for (const client of h.wss.clients) client.send(JSON.stringify({ event, payload }));
}

let h: Harness;
let transport: Transport | null = null;
let token: string | null = TOKEN;

function makeTransport(): Transport {
  transport = createHttpTransport({
    origin: h.origin,
    token: () => token,
    fetch: globalThis.fetch,
    openSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    backoff: { initialMs: 5, maxMs: 40 },
  });
  return transport;
}

beforeEach(async () => {
  token = TOKEN;
  h = await startServer();
});

afterEach(async () => {
  transport?.close();
  transport = null;
  for (const client of h.wss.clients) client.terminate();
  h.wss.close();
  await new Promise<void>((resolve) => h.server.close(() => resolve()));
});

describe('browser transport: calls', () => {
  it('POSTs the JSON input to /api/call/<name> with the bearer token and returns the result', async () => {
    const t = makeTransport();
    await expect(t.call('app:info', { a: 1 })).resolves.toEqual({ echo: { a: 1 } });
    expect(h.requests[0]).toEqual({ url: '/api/call/app:info', auth: `Bearer ${TOKEN}`, body: { a: 1 } });
  });

  it('rethrows a lab error with the name and message the server sent', async () => {
    const t = makeTransport();
    const error = await t.call('workspaces:open', { dir: '/nowhere' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('NotFoundError');
    expect((error as Error).message).toBe('no MIAD Lab workspace at /nowhere');
  });

  it('explains a non-JSON answer instead of failing on JSON.parse', async () => {
    const error = (await makeTransport()
      .call('datasets:list', {})
      .catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('NetworkError');
    expect(error.message).toContain('HTTP 502');
  });

  it('says the server is unreachable when nothing listens', async () => {
    const t = makeTransport();
    await new Promise<void>((resolve) => h.server.close(() => resolve()));
    h.server = createServer();
    h.server.listen(0);
    const error = (await t.call('app:info', {}).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('NetworkError');
    expect(error.message).toContain('miad-lab serve');
  });

  it('flags a refused token, then recovers once a good token is supplied', async () => {
    token = 'wrong';
    const t = makeTransport();
    const statuses: boolean[] = [];
    t.onStatus((s) => {
      if (statuses.at(-1) !== s.unauthorized) statuses.push(s.unauthorized);
    });
    const error = (await t.call('app:info', {}).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('UnauthorizedError');
    expect(error.message).toContain('miad-lab serve');
    expect(t.status().unauthorized).toBe(true);
    token = TOKEN;
    t.retryAuth();
    expect(t.status().unauthorized).toBe(false);
    await expect(t.call('app:info', {})).resolves.toEqual({ echo: {} });
    expect(statuses).toEqual([true, false]);
  });
});

describe('browser transport: events and files', () => {
  it('delivers events from WS /api/events, authenticated by the token query parameter', async () => {
    const t = makeTransport();
    const got: unknown[] = [];
    const off = t.on('workspaces:demoProgress', (p) => got.push(p));
    t.on('workspaces:changed', () => got.push('other event'));
    await expect(t.eventsReady(5000)).resolves.toBe(true);
    expect(h.socketUrls[0]).toBe(`/api/events?token=${TOKEN}`);
    broadcast(h, 'workspaces:demoProgress', { phase: 'generating', scenario: 'wind_turbine', done: 3, total: 9 });
    await until(() => got.length === 1, 'the event');
    expect(got[0]).toEqual({ phase: 'generating', scenario: 'wind_turbine', done: 3, total: 9 });
    off();
    broadcast(h, 'workspaces:demoProgress', { phase: 'done', scenario: null, done: 9, total: 9 });
    broadcast(h, 'workspaces:changed', { workspace: null });
    await until(() => got.length === 2, 'the second event');
    expect(got[1]).toBe('other event');
  });

  it('reconnects with backoff after the socket drops and keeps the listeners', async () => {
    const t = makeTransport();
    const got: unknown[] = [];
    const states: string[] = [];
    t.onStatus((s) => states.push(s.events));
    t.on('workspaces:changed', (p) => got.push(p));
    await t.eventsReady(5000);
    for (const client of h.wss.clients) client.terminate();
    await until(() => states.includes('reconnecting'), 'the reconnecting state');
    await until(() => t.status().events === 'open' && h.socketUrls.length >= 2, 'the reconnection');
    broadcast(h, 'workspaces:changed', { workspace: null });
    await until(() => got.length === 1, 'an event after reconnecting');
    expect(states).toEqual(['open', 'reconnecting', 'open']);
  });

  it('ignores malformed event messages', async () => {
    const t = makeTransport();
    const got: unknown[] = [];
    t.on('workspaces:changed', (p) => got.push(p));
    await t.eventsReady(5000);
    for (const client of h.wss.clients) {
      client.send('not json');
      client.send(JSON.stringify({ payload: 1 }));
      client.send(JSON.stringify({ event: 'workspaces:changed', payload: { workspace: null } }));
    }
    await until(() => got.length === 1, 'the valid event');
    expect(got).toEqual([{ workspace: null }]);
  });

  it('eventsReady resolves false when the socket cannot open in time', async () => {
    token = 'wrong';
    const t = makeTransport();
    await expect(t.eventsReady(50)).resolves.toBe(false);
  });

  it('builds /api/file URLs with the encoded path and the token', () => {
    const t = makeTransport();
    expect(t.fileUrl('/data/a b/#1.png')).toBe(`${h.origin}/api/file?path=%2Fdata%2Fa%20b%2F%231.png&token=${TOKEN}`);
  });
});

describe('reconnectDelay', () => {
  it('doubles from the initial delay up to the cap, with ±25 % jitter', () => {
    const b = { initialMs: 500, maxMs: 10_000 };
    expect([0, 1, 2, 3, 4, 5, 9].map((a) => reconnectDelay(a, b, 0.5))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(reconnectDelay(0, b, 0)).toBe(375);
    expect(reconnectDelay(0, b, 1)).toBe(625);
  });
});
