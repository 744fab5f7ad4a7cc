/**
 * The IPC door: one `ipcMain.handle` per call of the contract, and the event stream to the
 * window. Every call first checks who sent it (our window's webContents, from a frame showing
 * the app's own page), then hands name and raw input to the lab host, which validates the input.
 * Answers are CallResponse envelopes because `ipcRenderer.invoke` would lose a thrown error's
 * name; the preload turns a failed envelope back into a rejected call.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { CALL_NAMES, type CallName } from '../../shared/contract';
import { toErrorInfo, type LabErrorName } from '../../shared/errors';
import type { CallResponse, EventMessage } from '../../shared/http';
import { LAB_EVENT_CHANNEL } from '../../shared/window-lab';
import type { LabHost } from '../core/host';

/** The parts of an invoke event the sender check reads. */
export type SenderEvent = Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>;

/** The webContents allowed to call: our window's, or null while there is no window. */
export type TrustedContents = () => Pick<WebContents, 'send' | 'isDestroyed'> | null;

/**
 * True when the call comes from our window and from a frame that shows the app's own page. A
 * frame that navigated or was destroyed has no senderFrame: refused too.
 */
export function isTrustedSender(event: SenderEvent, trusted: TrustedContents, isAppUrl: (url: string) => boolean): boolean {
  const contents = trusted();
  if (contents === null || event.sender !== contents) return false;
  let frameUrl: string | undefined;
  try {
    frameUrl = event.senderFrame?.url;
  } catch {
    return false; // Electron throws when reading a frame that is already gone.
  }
  return typeof frameUrl === 'string' && isAppUrl(frameUrl);
}

const EXPECTED_ERRORS: ReadonlySet<string> = new Set<LabErrorName>([
  'ValidationError',
  'NotFoundError',
  'ForbiddenError',
  'ConflictError',
  'LabError',
]);

export interface IpcDeps {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  host: Pick<LabHost, 'invoke' | 'onEvent'>;
  trusted: TrustedContents;
  isAppUrl: (url: string) => boolean;
  /** Where errors the lab did not expect (bugs, crashes) are reported; console.error by default. */
  logError?: (message: string, error: unknown) => void;
}

/** Builds the handler of one call; exported so tests drive it with fake events. */
export function callHandler(
  name: CallName,
  deps: Omit<IpcDeps, 'ipcMain'>,
): (event: SenderEvent, input: unknown) => Promise<CallResponse> {
  const logError = deps.logError ?? ((message, error) => console.error(message, error));
  return async (event, input) => {
    if (!isTrustedSender(event, deps.trusted, deps.isAppUrl)) {
      return {
        ok: false,
        error: { name: 'ForbiddenError', message: `${name} refused: the caller is not the MIAD Lab window` },
      };
    }
    try {
      return { ok: true, result: await deps.host.invoke(name, input) };
    } catch (error) {
      const info = toErrorInfo(error);
      if (!EXPECTED_ERRORS.has(info.name)) logError(`[ipc] ${name} failed`, error);
      return { ok: false, error: info };
    }
  };
}

/**
 * Registers every call and forwards every host event to the window. Returns the function that
 * undoes both (quit, tests).
 */
export function registerIpc(deps: IpcDeps): () => void {
  for (const name of CALL_NAMES) {
    deps.ipcMain.handle(name, callHandler(name, deps));
  }
  const unsubscribe = deps.host.onEvent((event, payload) => {
    const contents = deps.trusted();
    if (contents === null || contents.isDestroyed()) return;
    const message: EventMessage = { event, payload };
    contents.send(LAB_EVENT_CHANNEL, message);
  });
  return () => {
    unsubscribe();
    for (const name of CALL_NAMES) deps.ipcMain.removeHandler(name);
  };
}
