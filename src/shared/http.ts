/**
 * The HTTP + WebSocket wire format of the headless server (`miad-lab serve`), shared by the
 * server and the browser transport of the renderer.
 *
 *   POST /api/call/<call name>   body: JSON input        → 200 { ok: true, result } | 4xx/5xx { ok: false, error }
 *   GET  /api/health                                      → 200 { ok: true, ... } with the token, 401 without
 *   GET  /api/file?path=<absolute path>                   → the file, if the store knows it (else 403): an image, nosniff
 *   WS   /api/events                                      → messages { event, payload }
 *
 * Every /api request carries the token: header `Authorization: Bearer <token>`, or the query
 * parameter `token` (for <img src> and the WebSocket, which cannot set headers).
 */
import type { LabErrorInfo } from './errors';
import { MASK_PNG_BASE64_MAX } from './calls/annotate';

export const API_PREFIX = '/api';
export const TOKEN_PARAM = 'token';

/**
 * Largest JSON body of one call over HTTP. The largest input of the contract is a mask
 * (`annotate:saveMask`), so the limit is that call's, plus room for the JSON around it: a mask
 * that saves through the desktop's IPC door saves through this one too, and one over the limit
 * is refused by the contract at both doors alike.
 */
export const CALL_BODY_MAX_BYTES = MASK_PNG_BASE64_MAX + (64 << 10);

export type CallResponse<T = unknown> = { ok: true; result: T } | { ok: false; error: LabErrorInfo };

export interface EventMessage {
  event: string;
  payload: unknown;
}

/** HTTP status for an error crossing the wire, by its name. */
export function statusForError(name: string): number {
  switch (name) {
    case 'ValidationError':
      return 400;
    case 'UnauthorizedError':
      return 401;
    case 'ForbiddenError':
      return 403;
    case 'NotFoundError':
      return 404;
    case 'ConflictError':
      return 409;
    default:
      return 500;
  }
}
