/**
 * The `miad-file://local/<encoded absolute path>` protocol (naming in src/shared/files.ts) through
 * which the window loads dataset images, masks and anomaly maps. The lab host decides what may be
 * read (only files the store knows, under the open workspace and the registered dataset roots,
 * symlinks resolved: core/served-files.ts, the rule the server's /api/file uses too); this module
 * maps its answer to HTTP-like responses: 200 with the bytes (a fixed image type, nosniff), 400
 * for a URL that does not name a path, 403 for a file the rule refuses, 404 for a missing file.
 */
import { pathToFileURL } from 'node:url';
import type { Protocol } from 'electron';
import { FILE_PROTOCOL, pathFromFileProtocolUrl } from '../../shared/files';
import { toErrorInfo } from '../../shared/errors';
import { statusForError } from '../../shared/http';
import type { LabHost } from '../core/host';
import { servedFileHeaders } from '../core/served-files';

/**
 * Must run before the app's `ready` event. standard + secure: parsed like https and treated as
 * a secure context; supportFetchAPI: fetch() may read it; stream: large files are streamed;
 * corsEnabled: an <img crossorigin> from it can be drawn to a canvas and read back (mask
 * painting) without tainting the canvas. No bypassCSP: the page's CSP lists `miad-file:` itself.
 */
export function registerFileScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: FILE_PROTOCOL,
      privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, corsEnabled: true },
    },
  ]);
}

export interface FileProtocolDeps {
  host: Pick<LabHost, 'resolveAllowedFile'>;
  /** Reads a file:// URL: Electron's `net.fetch` (streams, sets the MIME type). */
  fetchFile: (fileUrl: string) => Promise<Response>;
  logError?: (message: string, error: unknown) => void;
}

function textResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });
}

/** The handler given to `protocol.handle(FILE_PROTOCOL, ...)`. */
export function createFileProtocolHandler(deps: FileProtocolDeps): (request: Request) => Promise<Response> {
  const logError = deps.logError ?? ((message, error) => console.error(message, error));
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return textResponse(405, 'method not allowed');
    const requested = pathFromFileProtocolUrl(request.url);
    if (requested === null) return textResponse(400, `not a ${FILE_PROTOCOL}://local/<absolute path> URL`);

    let resolved: string;
    try {
      resolved = await deps.host.resolveAllowedFile(requested);
    } catch (error) {
      const info = toErrorInfo(error);
      const status = statusForError(info.name);
      if (status === 500) logError(`[${FILE_PROTOCOL}] cannot resolve ${requested}`, error);
      return textResponse(status, status === 500 ? 'cannot read this file' : info.message);
    }

    let file: Response;
    try {
      file = await deps.fetchFile(pathToFileURL(resolved).href);
    } catch {
      // Allowed a moment ago, gone now (deleted or renamed in between).
      return textResponse(404, 'file not found');
    }
    const headers = new Headers(file.headers);
    // The type the host's rule fixed by the requested name's extension (an image, never one
    // net.fetch guessed), and nosniff: the same headers as the server's /api/file.
    for (const [name, value] of Object.entries(servedFileHeaders(requested))) headers.set(name, value);
    // Masks are edited in place: the window must not show a stale copy from its cache.
    headers.set('cache-control', 'no-cache');
    // Only the app's own page runs in this session (navigation is confined), see corsEnabled above.
    headers.set('access-control-allow-origin', '*');
    if (request.method === 'HEAD') {
      await file.body?.cancel();
      return new Response(null, { status: file.status, headers });
    }
    return new Response(file.body, { status: file.status, headers });
  };
}

export function handleFileProtocol(protocol: Pick<Protocol, 'handle'>, deps: FileProtocolDeps): void {
  protocol.handle(FILE_PROTOCOL, createFileProtocolHandler(deps));
}
