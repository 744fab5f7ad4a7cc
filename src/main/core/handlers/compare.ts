/** Handlers of the `compare:*` calls: the paper's tables, curves, the qualitative grid and exports of saved runs. */
import { exportTables } from '../../../shared/compare/format';
import { compareCurves } from '../compare/curves';
import { compareGrid } from '../compare/grid';
import { compareTables } from '../compare/tables';
import type { DomainHandlers, HandlerContext } from './types';

export function compareHandlers(ctx: HandlerContext): DomainHandlers<'compare'> {
  return {
    'compare:tables': async ({ runIds, rowsBy }) => compareTables(ctx.requireLab().store, runIds, rowsBy),
    'compare:curves': async ({ runIds }) => {
      const lab = ctx.requireLab();
      return compareCurves({ store: lab.store, runDir: (id) => lab.jobs.runDir(id) }, runIds);
    },
    'compare:grid': async (input) => {
      const lab = ctx.requireLab();
      return compareGrid({ store: lab.store, workspaceDir: lab.dir, runDir: (id) => lab.jobs.runDir(id) }, input);
    },
    'compare:export': async ({ runIds, rowsBy, table, format }) => exportTables(compareTables(ctx.requireLab().store, runIds, rowsBy), table, format),
  };
}
