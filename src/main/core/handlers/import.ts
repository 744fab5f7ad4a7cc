/**
 * Handlers of the `import:*` calls. One import or rescan at a time per host: a second one while
 * the first is reading files is refused rather than queued, so two writers never race on a root.
 * Each runs as tracked work (ctx.track): closing the workspace cancels it, and since an import
 * writes in one transaction at its end, a cancelled one has changed nothing.
 */
import { LabError } from '../../../shared/errors';
import { importFolder, rescanDataset, scanFolder, type ImportDeps } from '../datasets/import/importer';
import { ImportRepo } from '../store/import-repo';
import type { DomainHandlers, HandlerContext } from './types';

export function importHandlers(ctx: HandlerContext, deps: ImportDeps = {}): DomainHandlers<'import'> {
  let running: string | null = null;
  const withProgress: ImportDeps = { ...deps, onProgress: (p) => ctx.emit('import:progress', p) };

  async function exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (running) throw new LabError(`cannot ${what} while ${running} is under way`, 'ConflictError');
    running = what;
    try {
      return await fn();
    } finally {
      running = null;
    }
  }

  return {
    'import:scan': async ({ root, mapping }) => {
      // A scan reads the folder only; with no workspace open it just cannot say what is imported already.
      const lab = ctx.currentLab();
      return ctx.track('scan a dataset folder', (signal) => scanFolder(lab?.store ?? null, root, mapping ?? {}, { ...withProgress, signal }));
    },
    'import:run': async (input) => {
      const lab = ctx.requireLab();
      return exclusive('import a dataset', () =>
        ctx.track('import a dataset', async (signal) => {
          const result = await importFolder(lab.store, input, { ...withProgress, signal });
          // The workspace's dataset and image counts changed: the frame shows them.
          ctx.emit('workspaces:changed', { workspace: lab.info() });
          return result;
        }),
      );
    },
    'import:rescan': async (input) => {
      const lab = ctx.requireLab();
      return exclusive('rescan a dataset', () =>
        ctx.track('rescan a dataset', async (signal) => {
          const result = await rescanDataset(lab.store, input, { ...withProgress, signal });
          ctx.emit('workspaces:changed', { workspace: lab.info() });
          return result;
        }),
      );
    },
    'import:reports': async ({ datasetId }) => {
      const repo = new ImportRepo(ctx.requireLab().store);
      repo.getDataset(datasetId);
      return repo.listReports(datasetId);
    },
    'import:report': async (input) => new ImportRepo(ctx.requireLab().store).getReport(input),
  };
}
