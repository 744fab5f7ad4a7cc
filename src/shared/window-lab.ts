/**
 * The object the Electron preload exposes as `window.lab`, and the conventions both sides of
 * that bridge share (IPC channel names, the error encoding). Pure: the renderer declares
 * `window.lab` with WindowLab, the preload builds it, the main process sends on the channels.
 *
 * Why errors need an encoding: `ipcRenderer.invoke` loses an error's name, so the main process
 * answers with a CallResponse envelope and the preload rethrows it. But the preload runs in the
 * isolated world, and contextBridge copies a thrown Error by its message only (electron#25596:
 * name and every other property are dropped). So the preload writes the name into the message,
 * in the very form Electron itself uses for a failed invoke ("Error invoking remote method
 * '<call>': <Name>: <message>"), and `errorFromBridge` rebuilds the named Error on the page's side.
 */
import type { LabApi, LabEventSource } from './contract';
import { fromErrorInfo, type LabErrorInfo } from './errors';
import type { MenuCommand } from './menu';

/** The key under window: `window.lab`. */
export const WINDOW_LAB_KEY = 'lab';
/** main → renderer: `{ event, payload }` (EventMessage of src/shared/http.ts). */
export const LAB_EVENT_CHANNEL = 'lab:event';
/** main → renderer: `{ command }` (MenuMessage of src/shared/menu.ts). */
export const LAB_MENU_CHANNEL = 'lab:menu';

export interface WindowLabExtras {
  /** Native menu commands that need the UI; returns the unsubscribe function. */
  onMenu(listener: (command: MenuCommand) => void): () => void;
  /** A `miad-file://` URL an <img> can load for a file under an allowed root. */
  fileUrl(absPath: string): string;
}

/**
 * `window.lab`: one async method per contract call (resolving to the call's result, rejecting
 * with an Error whose message carries the name, see errorFromBridge), events, menu, file URLs.
 */
export type WindowLab = LabApi & LabEventSource & WindowLabExtras;

const BRIDGED = /^Error invoking remote method '([^']*)': (?:([A-Za-z_$][\w$]*): )?([\s\S]*)$/;

/** The message the preload throws for a failed call, so the name survives contextBridge. */
export function bridgedErrorMessage(call: string, info: LabErrorInfo): string {
  return `Error invoking remote method '${call}': ${info.name}: ${info.message}`;
}

/**
 * The Error a `window.lab` call rejected with, as the page should see it: name and message of
 * the lab's error. Accepts what crossed contextBridge (an Error with only a message), an error
 * that did not cross it (name already set), or a non-Error.
 */
export function errorFromBridge(error: unknown): Error {
  if (!(error instanceof Error)) return fromErrorInfo({ name: 'Error', message: String(error) });
  const match = BRIDGED.exec(error.message);
  if (!match) return error;
  const name = match[2] ?? (error.name || 'Error');
  return fromErrorInfo({ name, message: match[3] ?? '' });
}
