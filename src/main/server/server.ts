/**
 * The headless server: the same UI as the desktop app, in a browser, over HTTP + WebSocket
 * (wire format in src/shared/http.ts). Binds 127.0.0.1 by default and requires a random token
 * on every /api request; `/api/file` serves only the files the host's rule allows (the store's
 * samples, masks, thumbnails and run pictures: core/served-files.ts), exactly as the desktop
 * app's protocol does, with the same fixed image content type and nosniff.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { API_PREFIX, CALL_BODY_MAX_BYTES, TOKEN_PARAM, statusForError, type CallResponse, type EventMessage } from '../../shared/http';
import { toErrorInfo } from '../../shared/errors';
import type { LabHost } from '../core/host';
import { isInside } from '../core/fs-util';
import { servedFileHeaders } from '../core/served-files';

/**
 * Same policy as the meta tag in src/renderer/index.html. connect-src 'self' covers the page's
 * fetches and its event WebSocket (ws:// of the page's own host and port: CSP Level 3, which
 * Chromium, Firefox and Safari implement); it allows no other host.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export interface LabServerOptions {
  host: LabHost;
  /** Folder of the built renderer (out/renderer). */
  staticDir: string;
  hostname?: string;
  port?: number;
  /** Fixed token (tests); random otherwise. */
  token?: string;
}

export interface LabServer {
  url: string;
  token: string;
  port: number;
  hostname: string;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function sendError(res: ServerResponse, name: string, message: string, status = statusForError(name)): void {
  sendJson(res, status, { ok: false, error: { name, message } } satisfies CallResponse);
}

function tokenMatches(expected: Buffer, given: string | null | undefined): boolean {
  if (!given) return false;
  const buf = Buffer.from(given);
  return buf.length === expected.length && timingSafeEqual(buf, expected);
}

function requestToken(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  return url.searchParams.get(TOKEN_PARAM);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > CALL_BODY_MAX_BYTES) throw Object.assign(new Error(`request body over ${CALL_BODY_MAX_BYTES} bytes`), { name: 'ValidationError' });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startLabServer(options: LabServerOptions): Promise<LabServer> {
  const { host } = options;
  const hostname = options.hostname ?? '127.0.0.1';
  const token = options.token ?? randomBytes(24).toString('hex');
  const tokenBuf = Buffer.from(token);
  const staticDir = resolve(options.staticDir);
  let boundPort = 0;

  /** Refuses DNS-rebinding: on loopback, the Host header must name loopback. */
  function hostAllowed(req: IncomingMessage): boolean {
    if (hostname !== '127.0.0.1' && hostname !== 'localhost' && hostname !== '::1') return true;
    const h = (req.headers.host ?? '').toLowerCase();
    return [`127.0.0.1:${boundPort}`, `localhost:${boundPort}`, `[::1]:${boundPort}`].includes(h);
  }

  /**
   * A browser sends the Origin of the page that opens a WebSocket, and the same-origin policy does
   * not apply to WebSockets: without this check any page the user visits could open the event
   * stream if it learnt the token. Accepted: no Origin (the CLI, scripts: not a browser page), or
   * the origin of the UI this server serves: on a loopback bind any of its loopback names (the page
   * may be opened at 127.0.0.1 or localhost), otherwise the Host the request itself was sent to.
   */
  function originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    const o = origin.toLowerCase();
    if (hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '::1') {
      return [`http://127.0.0.1:${boundPort}`, `http://localhost:${boundPort}`, `http://[::1]:${boundPort}`].includes(o);
    }
    const h = (req.headers.host ?? '').toLowerCase();
    return h !== '' && o === `http://${h}`;
  }

  async function serveStatic(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 'ValidationError', `method ${req.method} not allowed`, 405);
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return sendError(res, 'ValidationError', 'malformed URL', 400);
    }
    let file = normalize(join(staticDir, rel));
    if (!isInside(staticDir, file)) return sendError(res, 'ForbiddenError', 'outside the UI folder', 403);
    let info = await stat(file).catch(() => null);
    if (!info || info.isDirectory()) {
      // The UI is one page: unknown paths fall back to it, assets do not.
      if (rel.startsWith('/assets/')) return sendError(res, 'NotFoundError', `no such asset ${rel}`, 404);
      file = join(staticDir, 'index.html');
      info = await stat(file).catch(() => null);
      if (!info) return sendError(res, 'NotFoundError', 'the UI is not built: run `npm run build`', 404);
    }
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': info.size,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': file.endsWith('index.html') ? 'no-store' : 'public, max-age=31536000, immutable',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  }

  async function serveFile(res: ServerResponse, url: URL, method: string): Promise<void> {
    const path = url.searchParams.get('path');
    if (!path) return sendError(res, 'ValidationError', 'the path parameter is required', 400);
    let resolved: string;
    try {
      resolved = await host.resolveAllowedFile(path);
    } catch (error) {
      const info = toErrorInfo(error);
      return sendError(res, info.name, info.message);
    }
    const info = await stat(resolved);
    res.writeHead(200, {
      // The type the host's rule fixed by the requested name's extension (an image), and nosniff.
      ...servedFileHeaders(path),
      'content-length': info.size,
      'cache-control': 'private, max-age=60',
    });
    if (method === 'HEAD') return void res.end();
    createReadStream(resolved).pipe(res);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!tokenMatches(tokenBuf, requestToken(req, url))) {
      return sendError(res, 'UnauthorizedError', 'missing or wrong token: use the address `miad-lab serve` printed', 401);
    }
    const sub = url.pathname.slice(API_PREFIX.length);
    if (sub === '/health' && req.method === 'GET') {
      return sendJson(res, 200, { ok: true, result: { status: 'ok', name: 'MIAD Lab' } });
    }
    if (sub === '/file' && (req.method === 'GET' || req.method === 'HEAD')) return serveFile(res, url, req.method);
    if (sub.startsWith('/call/')) {
      if (req.method !== 'POST') return sendError(res, 'ValidationError', 'calls are POST requests', 405);
      let name: string;
      try {
        name = decodeURIComponent(sub.slice('/call/'.length));
      } catch {
        return sendError(res, 'ValidationError', 'malformed call name in the URL (bad percent-encoding)', 400);
      }
      const type = req.headers['content-type'] ?? '';
      if (!type.startsWith('application/json')) return sendError(res, 'ValidationError', 'calls take a JSON body (content-type: application/json)', 415);
      let input: unknown;
      try {
        const body = await readBody(req);
        input = body.trim() === '' ? {} : JSON.parse(body);
      } catch (error) {
        const info = toErrorInfo(error);
        if (info.name === 'ValidationError') {
          // An oversized body is left unread: close this connection rather than let it be reused mid-body.
          res.setHeader('connection', 'close');
          return sendError(res, 'ValidationError', info.message, 413);
        }
        return sendError(res, 'ValidationError', `the body is not valid JSON: ${info.message}`);
      }
      // A demo creation whose client went away (tab closed, connection dropped) is cancelled: nobody
      // would see its workspace, and its job would otherwise run on alone (issue 20).
      const onDropped = (): void => {
        if (!res.writableFinished) void host.invoke('workspaces:cancelDemo', {}).catch(() => undefined);
      };
      if (name === 'workspaces:createDemo') res.once('close', onDropped);
      try {
        const result = await host.invoke(name, input);
        return sendJson(res, 200, { ok: true, result: result ?? null } satisfies CallResponse);
      } catch (error) {
        const info = toErrorInfo(error);
        return sendError(res, info.name, info.message);
      }
    }
    return sendError(res, 'NotFoundError', `no API route ${req.method} ${url.pathname}`, 404);
  }

  const server: Server = createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return sendError(res, 'ValidationError', 'malformed URL', 400);
    }
    if (!hostAllowed(req)) return sendError(res, 'ForbiddenError', `unexpected Host header ${JSON.stringify(req.headers.host ?? '')}`, 403);
    const work = url.pathname === API_PREFIX || url.pathname.startsWith(API_PREFIX + '/') ? handleApi(req, res, url) : serveStatic(req, res, url.pathname);
    work.catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 'LabError', toErrorInfo(error).message, 500);
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== `${API_PREFIX}/events` || !hostAllowed(req) || !tokenMatches(tokenBuf, requestToken(req, url))) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    if (!originAllowed(req)) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
    });
  });
  const unsubscribe = host.onEvent((event, payload) => {
    const data = JSON.stringify({ event, payload } satisfies EventMessage);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(data);
  });

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, hostname, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  boundPort = (server.address() as AddressInfo).port;
  const urlHost = hostname.includes(':') ? `[${hostname}]` : hostname;
  return {
    url: `http://${urlHost}:${boundPort}/?${TOKEN_PARAM}=${token}`,
    token,
    port: boundPort,
    hostname,
    async close() {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
    },
  };
}
