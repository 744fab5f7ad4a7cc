/**
 * The preload of the app's window (sandboxed, bundled to out/preload/index.cjs). It exposes
 * `window.lab` (WindowLab of src/shared/window-lab.ts): one method per call of the contract, built
 * from CALL_NAMES, plus event and menu subscriptions and file URLs. The page never sees
 * ipcRenderer nor any IPC event object (whose `sender` would hand it ipcRenderer back).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { CALL_NAMES, EVENT_NAMES, type CallName, type EventName, type LabApi, type LabEventSource } from '../shared/contract';
import { fromErrorInfo } from '../shared/errors';
import { fileProtocolUrl } from '../shared/files';
import type { CallResponse } from '../shared/http';
import { isMenuCommand, type MenuCommand } from '../shared/menu';
import {
  bridgedErrorMessage,
  LAB_EVENT_CHANNEL,
  LAB_MENU_CHANNEL,
  WINDOW_LAB_KEY,
  type WindowLab,
} from '../shared/window-lab';

type IpcListener = (event: IpcRendererEvent, ...args: unknown[]) => void;

/** The slice of ipcRenderer the bridge uses; tests pass a fake. */
export interface IpcLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: IpcListener): unknown;
  removeListener(channel: string, listener: IpcListener): unknown;
}

function isCallResponse(value: unknown): value is CallResponse {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { ok?: unknown; error?: unknown };
  if (candidate.ok === true) return 'result' in candidate;
  if (candidate.ok !== false || typeof candidate.error !== 'object' || candidate.error === null) return false;
  const error = candidate.error as { name?: unknown; message?: unknown };
  return typeof error.name === 'string' && typeof error.message === 'string';
}

/**
 * Calls the main process and unwraps its envelope. A failure rejects with an Error named as
 * the lab named it and whose message carries that name too, because contextBridge will keep
 * only the message (see src/shared/window-lab.ts).
 */
async function callMain(ipc: IpcLike, name: CallName, input: unknown): Promise<unknown> {
  const response: unknown = await ipc.invoke(name, input ?? {});
  if (!isCallResponse(response)) {
    throw fromErrorInfo({ name: 'LabError', message: bridgedErrorMessage(name, { name: 'LabError', message: 'malformed answer from the main process' }) });
  }
  if (response.ok) return response.result;
  const error = fromErrorInfo({ name: response.error.name, message: bridgedErrorMessage(name, response.error) });
  throw error;
}

/**
 * One listener on an IPC channel fanned out to the page's listeners: a page that subscribes in
 * many components must not pile up ipcRenderer listeners (Node warns past 10).
 */
function fanOut<T>(ipc: IpcLike, channel: string, accept: (message: unknown) => T | undefined) {
  const listeners = new Set<(value: T) => void>();
  const dispatch: IpcListener = (_event, message) => {
    const value = accept(message);
    if (value === undefined) return;
    for (const listener of [...listeners]) {
      try {
        listener(value);
      } catch (error) {
        console.error(`[lab] a ${channel} listener threw`, error);
      }
    }
  };
  return (listener: (value: T) => void): (() => void) => {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    if (listeners.size === 0) ipc.on(channel, dispatch);
    listeners.add(listener);
    return () => {
      if (!listeners.delete(listener)) return;
      if (listeners.size === 0) ipc.removeListener(channel, dispatch);
    };
  };
}

/** Builds the object exposed as `window.lab`. */
export function buildWindowLab(ipc: IpcLike): WindowLab {
  const calls: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const name of CALL_NAMES) calls[name] = (input) => callMain(ipc, name, input);

  const subscribeEvents = fanOut<{ event: EventName; payload: unknown }>(ipc, LAB_EVENT_CHANNEL, (message) => {
    if (typeof message !== 'object' || message === null) return undefined;
    const { event, payload } = message as { event?: unknown; payload?: unknown };
    return typeof event === 'string' && (EVENT_NAMES as string[]).includes(event) ? { event: event as EventName, payload } : undefined;
  });
  const subscribeMenu = fanOut<MenuCommand>(ipc, LAB_MENU_CHANNEL, (message) => {
    const command = typeof message === 'object' && message !== null ? (message as { command?: unknown }).command : undefined;
    return isMenuCommand(command) ? command : undefined;
  });

  const events: LabEventSource = {
    on(event, listener) {
      if (!(EVENT_NAMES as string[]).includes(event)) throw new Error(`unknown lab event: ${String(event)}`);
      if (typeof listener !== 'function') throw new TypeError('listener must be a function');
      return subscribeEvents((message) => {
        if (message.event === event) (listener as (payload: unknown) => void)(message.payload);
      });
    },
  };

  return {
    ...(calls as LabApi),
    on: events.on,
    onMenu: (listener) => subscribeMenu(listener),
    fileUrl: (absPath) => {
      if (typeof absPath !== 'string' || absPath === '') throw new TypeError('fileUrl needs an absolute path');
      return fileProtocolUrl(absPath);
    },
  };
}

contextBridge.exposeInMainWorld(WINDOW_LAB_KEY, buildWindowLab(ipcRenderer));
