/** The list of recently opened workspaces, kept in the app's config folder (not in a workspace). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecentWorkspace } from '../../../shared/types';
import { writeFileAtomic } from '../fs-util';
import { folderState } from './workspace';

const FILE = 'recent-workspaces.json';
const MAX_RECENT = 12;

interface Entry {
  dir: string;
  name: string;
  openedAt: string;
}

export class RecentWorkspaces {
  constructor(
    private readonly configDir: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private async read(): Promise<Entry[]> {
    try {
      const parsed: unknown = JSON.parse(await readFile(join(this.configDir, FILE), 'utf8'));
      if (!Array.isArray(parsed)) return [];
      return parsed.filter(
        (e): e is Entry => typeof e === 'object' && e !== null && typeof e.dir === 'string' && typeof e.name === 'string' && typeof e.openedAt === 'string',
      );
    } catch {
      // A missing or corrupt list is an empty list; it is rewritten on the next open.
      return [];
    }
  }

  async list(): Promise<RecentWorkspace[]> {
    const entries = await this.read();
    return Promise.all(
      entries.map(async (e) => ({ ...e, exists: (await folderState(e.dir).catch(() => 'missing')) === 'workspace' })),
    );
  }

  async add(dir: string, name: string): Promise<void> {
    const entries = (await this.read()).filter((e) => e.dir !== dir);
    entries.unshift({ dir, name, openedAt: this.now().toISOString() });
    await writeFileAtomic(join(this.configDir, FILE), JSON.stringify(entries.slice(0, MAX_RECENT), null, 2));
  }
}
