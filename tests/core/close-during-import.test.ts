/**
 * Issue 20 item 6: closing the workspace while an import runs. The close cancels the import, waits
 * for it to let go of the database, and says what it cancelled; the import fails with that reason
 * and has written nothing (never "The database connection is not open").
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createLabHost } from '../../src/main/core/lab-host';
import type { ImportProgress } from '../../src/shared/calls/import';
import { scenarioFiles, writeTree } from '../import/helpers';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();

async function hostWithWorkspace() {
  const root = await tmp();
  const host = createLabHost({ door: 'server', configDir: join(root, 'config'), defaultWorkspacesDir: join(root, 'workspaces') });
  const ws = join(root, 'ws');
  await host.openWorkspace(ws, true);
  const data = await writeTree(join(root, 'data'), scenarioFiles('wind_turbine', ['crack'], { seed: 7000, train: 12 }));
  return { host, ws, data };
}

/** Calls `workspaces:close` as soon as the import reports its first `phase` event, once. */
function closeOn(host: ReturnType<typeof createLabHost>, phase: ImportProgress['phase']): { closing: () => Promise<unknown> | null } {
  let closing: Promise<unknown> | null = null;
  host.onEvent((event, payload) => {
    if (event === 'import:progress' && (payload as ImportProgress).phase === phase && closing === null) closing = host.invoke('workspaces:close', {});
  });
  return { closing: () => closing };
}

describe('closing the workspace during an import', () => {
  for (const phase of ['scanning', 'hashing'] as const) {
    it(`while ${phase}: cancels the import, waits for it, says so; nothing was written`, async () => {
      const { host, ws, data } = await hostWithWorkspace();
      const { closing } = closeOn(host, phase);
      await expect(host.invoke('import:run', { root: data })).rejects.toMatchObject({
        name: 'ConflictError',
        message: `the ${phase === 'scanning' ? 'scan' : 'import'} of ${data} was cancelled (the workspace was closed): nothing was written`,
      });
      expect(closing()).not.toBeNull();
      await expect(closing()).resolves.toEqual({ closed: true, cancelled: ['import a dataset'] });
      expect(host.currentLab()).toBeNull();

      // Reopened: no dataset, and the same import now runs to the end.
      await host.invoke('workspaces:open', { dir: ws });
      expect(await host.invoke('datasets:list', {})).toEqual([]);
      const done = (await host.invoke('import:run', { root: data })) as { report: { totals: { samples: number } } };
      expect(done.report.totals.samples).toBe(16);
      await expect(host.invoke('workspaces:close', {})).resolves.toEqual({ closed: true, cancelled: [] });
      await host.close();
    });
  }
});
