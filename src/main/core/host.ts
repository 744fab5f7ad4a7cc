/**
 * What every door (Electron IPC, HTTP server, CLI) talks to: the lab host. It owns the open
 * workspace (if any) and implements the whole contract of src/shared/contract.ts.
 */
import type { EventName } from '../../shared/contract';

export type HostEventListener = (event: EventName, payload: unknown) => void;

export interface LabHost {
  /**
   * Runs one call of the contract. `name` and `rawInput` come straight from outside: the host
   * checks the name and validates the input (throws an Error named ValidationError) before
   * anything runs.
   */
  invoke(name: string, rawInput: unknown): Promise<unknown>;
  /** Subscribes to every event; returns the unsubscribe function. */
  onEvent(listener: HostEventListener): () => void;
  /**
   * Resolves a file a client asks to read (an image, a mask). Returns its real absolute path when
   * the store knows it (a sample's image or mask, an edited mask, a thumbnail, a run's picture:
   * served-files.ts, the one rule for both file doors) and it really lies under the open workspace
   * or a registered dataset root; throws an Error named ForbiddenError otherwise, or NotFoundError
   * when a known file does not exist. The door sends it with servedFileHeaders(requestedPath).
   */
  resolveAllowedFile(requestedPath: string): Promise<string>;
  /** Closes the workspace database and stops background work. */
  close(): Promise<void>;
}
