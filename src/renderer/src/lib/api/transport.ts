/**
 * The two ways the UI reaches the lab, behind one interface:
 *  - desktop: the Electron preload's `window.lab` (IPC), with native menu commands;
 *  - browser: the headless server's wire format (src/shared/http.ts): `POST /api/call/<name>`,
 *    events over `WS /api/events` (reconnected with backoff), files via `/api/file?path=`.
 * Side-effecting collaborators (fetch, WebSocket, timers) are parameters so tests can drive a
 * real server with Node's fetch and the `ws` client.
 */
import type { CallName, EventName } from '../../../../shared/contract';
import { fromErrorInfo } from '../../../../shared/errors';
import { API_PREFIX, TOKEN_PARAM, type CallResponse, type EventMessage } from '../../../../shared/http';
import type { MenuCommand } from '../../../../shared/menu';
import { errorFromBridge, WINDOW_LAB_KEY, type WindowLab } from '../../../../shared/window-lab';

export type EventsState = 'connecting' | 'open' | 'reconnecting';

export interface TransportStatus {
  /** Whether server events (progress, workspace changes) currently arrive. */
  events: EventsState;
  /** True after the server refused the token (HTTP 401): the UI shows the token screen. */
  unauthorized: boolean;
}

export interface Transport {
  readonly kind: 'desktop' | 'browser';
  /** Runs one contract call; a failure is thrown as an Error with the server's name and message. */
  call(name: CallName, input: unknown): Promise<unknown>;
  /** Subscribes to one event; returns the unsubscribe function. */
  on(event: EventName, listener: (payload: unknown) => void): () => void;
  /** A URL an <img> can load for a file on the lab's machine. */
  fileUrl(absPath: string): string;
  /** Native menu commands (desktop only; a no-op subscription in a browser). */
  onMenu(listener: (command: MenuCommand) => void): () => void;
  /**
   * Resolves true once events can arrive (at once on the desktop), false after `timeoutMs`.
   * Callers that start work which reports progress wait for it so no early event is missed.
   */
  eventsReady(timeoutMs: number): Promise<boolean>;
  status(): TransportStatus;
  onStatus(listener: (status: TransportStatus) => void): () => void;
  /** Clears a refused token state after the user supplied a new one; reconnects events. */
  retryAuth(): void;
  close(): void;
}

/** Builds an Error that keeps the name across the boundary (instanceof Error, `.name` set). */
function namedError(name: string, message: string): Error {
  return fromErrorInfo({ name, message });
}

// ---------------------------------------------------------------------------------------------
// Desktop

/** The preload's `window.lab` when running inside the desktop app, else null (a plain browser). */
export function findWindowLab(scope: unknown): WindowLab | null {
  if (typeof scope !== 'object' || scope === null) return null;
  const lab = (scope as Record<string, unknown>)[WINDOW_LAB_KEY];
  if (typeof lab !== 'object' || lab === null) return null;
  const candidate = lab as Partial<WindowLab>;
  return typeof candidate.on === 'function' && typeof candidate.fileUrl === 'function' ? (lab as WindowLab) : null;
}

export function createDesktopTransport(windowLab: WindowLab): Transport {
  const status: TransportStatus = { events: 'open', unauthorized: false };
  const api = windowLab as unknown as Record<string, (input: unknown) => Promise<unknown>>;
  return {
    kind: 'desktop',
    async call(name, input) {
      const method = api[name];
      if (typeof method !== 'function') throw namedError('LabError', `the desktop app has no call named ${name}`);
      try {
        return await method.call(windowLab, input ?? {});
      } catch (error) {
        // contextBridge keeps only an error's message; the preload put the name in it.
        throw errorFromBridge(error);
      }
    },
    on: (event, listener) => windowLab.on(event, listener as never),
    fileUrl: (absPath) => windowLab.fileUrl(absPath),
    onMenu: (listener) => (typeof windowLab.onMenu === 'function' ? windowLab.onMenu(listener) : () => {}),
    eventsReady: async () => true,
    status: () => ({ ...status }),
    onStatus: () => () => {},
    retryAuth: () => {},
    close: () => {},
  };
}

// ---------------------------------------------------------------------------------------------
// Browser

/** A handler the DOM's and the `ws` package's sockets both accept (method syntax: bivariant). */
type SocketHandler<E> = { handle(ev: E): void }['handle'];

/** The subset of the WebSocket API the transport uses (the DOM's, or the `ws` package's in tests). */
export interface SocketLike {
  onopen: SocketHandler<unknown> | null;
  onmessage: SocketHandler<{ data: unknown }> | null;
  onclose: SocketHandler<unknown> | null;
  onerror: SocketHandler<unknown> | null;
  close(code?: number): void;
}
export type SocketFactory = (url: string) => SocketLike;

export interface HttpTransportOptions {
  /** Origin of the server, e.g. `http://127.0.0.1:5174` (the page's own origin in practice). */
  origin: string;
  /** Current token; read on every request so a token pasted later takes effect. */
  token: () => string | null;
  fetch: typeof fetch;
  openSocket: SocketFactory;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  /** Reconnect delays: initialMs doubling up to maxMs, each with ±25 % jitter. */
  backoff?: { initialMs: number; maxMs: number };
  random?: () => number;
}

export function reconnectDelay(attempt: number, backoff: { initialMs: number; maxMs: number }, random: number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.75 + 0.5 * random));
}

export function createHttpTransport(options: HttpTransportOptions): Transport {
  const origin = options.origin.replace(/\/+$/, '');
  const setTimer = options.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
  const clearTimer = options.clearTimeout ?? ((handle) => globalThis.clearTimeout(handle as number));
  const backoff = options.backoff ?? { initialMs: 500, maxMs: 10_000 };
  const random = options.random ?? Math.random;

  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const statusListeners = new Set<(status: TransportStatus) => void>();
  const readyWaiters = new Set<(ready: boolean) => void>();
  let status: TransportStatus = { events: 'connecting', unauthorized: false };
  let socket: SocketLike | null = null;
  let attempt = 0;
  let reconnectTimer: unknown = null;
  let closed = false;

  function setStatus(patch: Partial<TransportStatus>): void {
    const next = { ...status, ...patch };
    if (next.events === status.events && next.unauthorized === status.unauthorized) return;
    status = next;
    for (const listener of statusListeners) listener({ ...status });
  }

  function withToken(url: string): string {
    const token = options.token();
    if (token === null) return url;
    return `${url}${url.includes('?') ? '&' : '?'}${TOKEN_PARAM}=${encodeURIComponent(token)}`;
  }

  function connect(): void {
    if (closed || socket !== null || status.unauthorized) return;
    const wsOrigin = origin.replace(/^http/i, 'ws');
    let ws: SocketLike;
    try {
      ws = options.openSocket(withToken(`${wsOrigin}${API_PREFIX}/events`));
    } catch {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      setStatus({ events: 'open' });
      for (const resolve of [...readyWaiters]) resolve(true);
    };
    ws.onmessage = (ev) => dispatch(ev.data);
    ws.onerror = () => {
      // onclose follows and schedules the reconnect.
    };
    ws.onclose = () => {
      if (socket === ws) socket = null;
      if (closed) return;
      scheduleReconnect();
    };
  }

  function scheduleReconnect(): void {
    if (closed || reconnectTimer !== null || status.unauthorized) return;
    setStatus({ events: 'reconnecting' });
    const delay = reconnectDelay(attempt, backoff, random());
    attempt += 1;
    reconnectTimer = setTimer(() => {
      reconnectTimer = null;
      connect();
    }, delay);
  }

  function dispatch(data: unknown): void {
    let message: EventMessage;
    try {
      const text = typeof data === 'string' ? data : String(data);
      message = JSON.parse(text) as EventMessage;
    } catch {
      return; // Not ours to interpret; the server only sends JSON.
    }
    if (typeof message !== 'object' || message === null || typeof message.event !== 'string') return;
    for (const listener of listeners.get(message.event) ?? []) listener(message.payload);
  }

  function markUnauthorized(): void {
    setStatus({ unauthorized: true });
    if (reconnectTimer !== null) {
      clearTimer(reconnectTimer);
      reconnectTimer = null;
    }
  }

  async function call(name: CallName, input: unknown): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const token = options.token();
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await options.fetch(`${origin}${API_PREFIX}/call/${name}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(input ?? {}),
      });
    } catch {
      throw namedError('NetworkError', `cannot reach the lab server at ${origin}: is \`miad-lab serve\` still running?`);
    }
    if (response.status === 401) {
      markUnauthorized();
      throw namedError('UnauthorizedError', 'the server refused the access token: this page needs the token printed by `miad-lab serve`');
    }
    let body: CallResponse;
    try {
      body = (await response.json()) as CallResponse;
    } catch {
      throw namedError('NetworkError', `the lab server answered ${name} with HTTP ${response.status} and no JSON body`);
    }
    if (body && body.ok === true) return body.result;
    if (body && body.ok === false && body.error) throw fromErrorInfo(body.error);
    throw namedError('NetworkError', `the lab server answered ${name} with HTTP ${response.status} and an unexpected body`);
  }

  return {
    kind: 'browser',
    call,
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      connect();
      return () => {
        set.delete(listener);
      };
    },
    fileUrl: (absPath) => withToken(`${origin}${API_PREFIX}/file?path=${encodeURIComponent(absPath)}`),
    onMenu: () => () => {},
    eventsReady(timeoutMs) {
      connect();
      if (status.events === 'open') return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const done = (value: boolean) => {
          readyWaiters.delete(onOpen);
          clearTimer(timer);
          resolve(value);
        };
        const onOpen = (ready: boolean) => done(ready);
        readyWaiters.add(onOpen);
        const timer = setTimer(() => done(false), timeoutMs);
      });
    },
    status: () => ({ ...status }),
    onStatus(listener) {
      statusListeners.add(listener);
      return () => {
        statusListeners.delete(listener);
      };
    },
    retryAuth() {
      setStatus({ unauthorized: false });
      attempt = 0;
      if (socket === null) connect();
    },
    close() {
      closed = true;
      if (reconnectTimer !== null) clearTimer(reconnectTimer);
      reconnectTimer = null;
      socket?.close();
      socket = null;
      for (const resolve of [...readyWaiters]) resolve(false);
    },
  };
}
