/** The compute backends, best first (DESIGN section 6). Names only: the engine probes and loads them. */
export const BACKEND_NAMES = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/** One backend on this machine: usable or not, and why. */
export interface BackendStatusInfo {
  name: BackendName;
  available: boolean;
  /** Why it is unavailable, or a short note on what it runs on when it is available. */
  reason: string;
}
