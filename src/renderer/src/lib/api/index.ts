/**
 * The renderer's only door to the lab. Components import `lab` (one typed method per contract
 * call), `onEvent`, `fileUrl` and `onMenu` from here and never care whether they run in the
 * desktop app (IPC through `window.lab`) or in a browser against `miad-lab serve` (HTTP + WS).
 */
import type { CallName, EventName, EventPayload, LabApi } from '../../../../shared/contract';
import type { MenuCommand } from '../../../../shared/menu';
import { createDesktopTransport, createHttpTransport, findWindowLab, type Transport, type TransportStatus } from './transport';
import { saveToken, takeToken } from './token';

export type { TransportStatus } from './transport';

let current: Transport | null = null;
let browserToken: string | null = null;

function sessionStore(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

const memoryStore: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> = {
  getItem: () => null,
  setItem: () => {},
  removeItem: () => {},
};

/** Picks the transport on first use: the preload's `window.lab` when present, else HTTP + WS. */
export function transport(): Transport {
  if (current) return current;
  const windowLab = findWindowLab(window);
  if (windowLab) {
    current = createDesktopTransport(windowLab);
  } else {
    browserToken = takeToken({ location: window.location, history: window.history, storage: sessionStore() ?? memoryStore });
    current = createHttpTransport({
      origin: window.location.origin,
      token: () => browserToken,
      fetch: (input, init) => window.fetch(input, init),
      openSocket: (url) => new WebSocket(url),
    });
  }
  return current;
}

/**
 * One async method per call of the contract. A Proxy rather than a loop over CALL_NAMES: any
 * `domain:verb` property becomes a call, typed by LabApi, and the server validates the input.
 */
export const lab: LabApi = new Proxy({} as LabApi, {
  get(_target, property) {
    if (typeof property !== 'string' || !property.includes(':')) return undefined;
    return (input: unknown) => transport().call(property as CallName, input);
  },
});

export function onEvent<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
  return transport().on(event, listener as (payload: unknown) => void);
}

export function fileUrl(absPath: string): string {
  return transport().fileUrl(absPath);
}

export function onMenu(listener: (command: MenuCommand) => void): () => void {
  return transport().onMenu(listener);
}

export function eventsReady(timeoutMs = 3000): Promise<boolean> {
  return transport().eventsReady(timeoutMs);
}

export function transportStatus(): TransportStatus {
  return transport().status();
}

export function onTransportStatus(listener: (status: TransportStatus) => void): () => void {
  return transport().onStatus(listener);
}

/** Uses a token the user pasted (bare, or the whole printed URL); false when it is not one. */
export function useToken(pasted: string): boolean {
  const token = saveToken(sessionStore() ?? memoryStore, pasted);
  if (token === null) return false;
  browserToken = token;
  transport().retryAuth();
  return true;
}
