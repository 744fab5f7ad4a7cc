/** Default folders of the app outside any workspace, for the server and CLI doors. */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** App settings and the recent-workspaces list. `MIAD_LAB_CONFIG_DIR` overrides (tests, portable installs). */
export function defaultConfigDir(): string {
  if (process.env.MIAD_LAB_CONFIG_DIR) return process.env.MIAD_LAB_CONFIG_DIR;
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'miad-lab');
}

/** Where new demo workspaces go when the user names no folder. */
export function defaultWorkspacesDir(): string {
  return process.env.MIAD_LAB_WORKSPACES_DIR || join(homedir(), 'MIAD Lab');
}
