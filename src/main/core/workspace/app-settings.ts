/**
 * The app's own settings, kept in its config folder beside the recent-workspaces list (not in a
 * workspace: which backend to force is a fact about this machine, not about a dataset). One JSON
 * file, written atomically; a missing or corrupt file, or an unknown value, reads as the defaults.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BACKEND_SETTINGS, type BackendSetting } from '../../../shared/calls/engine';
import { writeFileAtomic } from '../fs-util';

const FILE = 'settings.json';

export interface AppSettingsData {
  /** `auto` or the backend every job is forced onto unless the caller names one. */
  backend: BackendSetting;
}

const DEFAULTS: AppSettingsData = { backend: 'auto' };

export class AppSettings {
  constructor(private readonly configDir: string) {}

  /** The file's other keys, kept as they are when one setting changes. */
  private async raw(): Promise<Record<string, unknown>> {
    try {
      const parsed: unknown = JSON.parse(await readFile(join(this.configDir, FILE), 'utf8'));
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }

  async get(): Promise<AppSettingsData> {
    const raw = await this.raw();
    const backend = (BACKEND_SETTINGS as readonly unknown[]).includes(raw.backend) ? (raw.backend as BackendSetting) : DEFAULTS.backend;
    return { backend };
  }

  async setBackend(backend: BackendSetting): Promise<void> {
    await writeFileAtomic(join(this.configDir, FILE), JSON.stringify({ ...(await this.raw()), backend }, null, 2));
  }

  /** The backend to force on a job the caller did not force: undefined for `auto`. */
  async forcedBackend(): Promise<Exclude<BackendSetting, 'auto'> | undefined> {
    const { backend } = await this.get();
    return backend === 'auto' ? undefined : backend;
  }
}
