/**
 * App-wide session state: what `app:info` said, the open workspace, whether the server accepted
 * our token, and whether the start screen is shown. One mutated `$state` object that every
 * component reads; the functions below are the only writers.
 */
import type { AppInfo, WorkspaceInfo } from '../../../../shared/types';
import { lab, onEvent, onTransportStatus, transportStatus, type TransportStatus } from '../api';
import { describeError } from './errors';

export type SessionPhase = 'loading' | 'ready' | 'unauthorized' | 'failed';
/** Which start-screen action a menu command asked for, so that screen can focus it. */
export type StartFocus = 'create' | 'open' | null;

export const session = $state({
  phase: 'loading' as SessionPhase,
  info: null as AppInfo | null,
  workspace: null as WorkspaceInfo | null,
  /** Why the first `app:info` failed, in plain words. */
  loadError: null as string | null,
  events: 'connecting' as TransportStatus['events'],
  /** True while the user looks at the start screen although a workspace is open (menu: open / demo). */
  switching: false,
  startFocus: null as StartFocus,
  /** Bumped on each focus request so the same request twice still moves focus. */
  startFocusTick: 0,
  closing: false,
  /** Why the last close failed, shown next to the Close button. */
  closeError: null as string | null,
  /** What the last close cancelled (an import under way), shown on the start screen. */
  closeNotice: null as string | null,
});

let wired = false;

/** Subscribes to transport status and workspace changes; idempotent. */
function wire(): void {
  if (wired) return;
  wired = true;
  const apply = (status: TransportStatus) => {
    session.events = status.events;
    if (status.unauthorized) session.phase = 'unauthorized';
  };
  apply(transportStatus());
  onTransportStatus(apply);
  onEvent('workspaces:changed', ({ workspace }) => setWorkspace(workspace));
}

/** Loads `app:info`; on a refused token the phase becomes 'unauthorized' (the transport says so). */
export async function loadSession(): Promise<void> {
  wire();
  session.phase = 'loading';
  session.loadError = null;
  try {
    const info = await lab['app:info']({});
    session.info = info;
    session.workspace = info.workspace;
    session.phase = 'ready';
  } catch (error) {
    if (transportStatus().unauthorized) {
      session.phase = 'unauthorized';
      return;
    }
    session.loadError = describeError(error);
    session.phase = 'failed';
  }
}

/** Re-reads `app:info` (e.g. a fresher default demo folder) without leaving the current screen. */
export async function refreshInfo(): Promise<void> {
  try {
    const info = await lab['app:info']({});
    session.info = info;
    setWorkspace(info.workspace);
  } catch {
    // Keep the info we have; the next call that fails shows its own error where it was made.
  }
}

export function setWorkspace(workspace: WorkspaceInfo | null): void {
  const changed = session.workspace?.dir !== workspace?.dir;
  session.workspace = workspace;
  if (session.info) session.info.workspace = workspace;
  if (changed) {
    session.switching = false;
    session.closeError = null;
    if (workspace) session.closeNotice = null;
  }
}

/** Shows the start screen (from the menu) with one action focused. */
export function showStart(focus: StartFocus): void {
  session.switching = session.workspace !== null;
  session.startFocus = focus;
  session.startFocusTick += 1;
}

/** True once per menu request for `focus`: the request is consumed so a later visit does not repeat it. */
export function takeStartFocus(focus: Exclude<StartFocus, null>): boolean {
  if (session.startFocusTick === 0 || session.startFocus !== focus) return false;
  session.startFocus = null;
  return true;
}

export function leaveStart(): void {
  session.switching = false;
  session.startFocus = null;
}

/** Closes the workspace (Close button or menu); a failure lands in `closeError`. */
export async function closeWorkspace(): Promise<void> {
  if (session.closing) return;
  session.closing = true;
  session.closeError = null;
  try {
    const { cancelled } = await lab['workspaces:close']({});
    setWorkspace(null);
    session.closeNotice = cancelled.length > 0 ? `The workspace was closed; cancelled: ${cancelled.join(', ')} (nothing of it was written).` : null;
  } catch (error) {
    session.closeError = describeError(error);
  } finally {
    session.closing = false;
  }
}
