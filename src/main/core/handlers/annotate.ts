/**
 * Handlers of the `annotate:*` calls. One AnnotationService per open Lab (kept in a WeakMap, so
 * a closed workspace's service goes with it); inputs arrive validated in shape, and the service
 * checks what only the workspace can (Table A.1 for the sample's scenario, versions, mask size).
 * Selections resolve through the Library, so a bulk edit hits exactly what the grid shows.
 * `annotate:exportDataset` runs the same exportDataset as `miad-lab export-dataset`, so the
 * menu and the CLI refuse and write alike.
 */
import { isAbsolute, join, resolve } from 'node:path';
import type { Lab } from '../lab';
import { exportDataset, type ExportManifest } from '../annotate/export-dataset';
import { AnnotationService } from '../annotate/annotation-service';
import { proposalQueue, proposeFromRun, runDisagreements, type AssistContext } from '../annotate/model-assist';
import { getRun } from '../store/runs-repo';
import { AnnotationRepo } from '../store/annotation-repo';
import { LabError } from '../../../shared/errors';
import { ANNOTATE_BULK_MAX, EXPORT_SKIP_REASONS, type AnnotationOrigin, type ExportSkipReason, type ExportSummary } from '../../../shared/calls/annotate';
import type { LibrarySelection } from '../../../shared/calls/library';
import { libraryOf } from './library';
import type { DomainHandlers, HandlerContext } from './types';

const services = new WeakMap<Lab, AnnotationService>();

/** The annotation service of an open lab, made on first use. */
export function annotationOf(lab: Lab): AnnotationService {
  let service = services.get(lab);
  if (!service) {
    service = new AnnotationService({ repo: new AnnotationRepo(lab.store), workspaceDir: lab.dir });
    services.set(lab, service);
  }
  return service;
}

function selectionIds(lab: Lab, selection: LibrarySelection): number[] {
  const { total, ids } = libraryOf(lab).selection(selection, { key: 'default', desc: false }, 0, ANNOTATE_BULK_MAX);
  if (total > ANNOTATE_BULK_MAX) throw new LabError(`the selection has ${total} samples; one bulk edit changes at most ${ANNOTATE_BULK_MAX}`, 'ValidationError');
  return ids;
}

/**
 * The manifest's totals. `datasetLabels` maps sample id → the dataset's own label, which the
 * manifest does not carry, to count labels the workspace changed.
 */
export function summarizeExport(manifest: ExportManifest, outDir: string, datasetLabels: ReadonlyMap<number, string>): ExportSummary {
  const excludedBy = Object.fromEntries(EXPORT_SKIP_REASONS.map((r) => [r, 0])) as Record<ExportSkipReason, number>;
  for (const s of manifest.skipped) excludedBy[s.reason] += 1;
  return {
    outDir,
    manifestPath: join(outDir, 'manifest.json'),
    scenario: manifest.scenario,
    samples: manifest.files.length,
    masks: manifest.files.filter((f) => f.mask !== null).length,
    changedLabels: manifest.files.filter((f) => datasetLabels.get(f.sampleId) !== f.label).length,
    editedMasks: manifest.files.filter((f) => f.maskSource === 'edited').length,
    excluded: manifest.skipped.length,
    excludedBy,
    counts: manifest.counts,
  };
}

async function exportFromLab(lab: Lab, outDir: string, scenario: string | undefined): Promise<ExportSummary> {
  // A relative path would land wherever the server happens to run: the UI always sends absolute ones.
  if (!isAbsolute(outDir)) throw new LabError(`the export folder must be an absolute path, not ${outDir}`, 'ValidationError');
  const out = resolve(outDir);
  const repo = new AnnotationRepo(lab.store);
  const manifest = await exportDataset({ repo, workspaceDir: lab.dir, outDir: out, scenario });
  const datasetLabels = new Map(repo.exportRows(scenario).map((r) => [r.id, r.label]));
  return summarizeExport(manifest, out, datasetLabels);
}

/** An origin names a run of this workspace: refused before the edit when it does not. */
function checkOrigin(lab: Lab, origin: AnnotationOrigin | undefined): AnnotationOrigin | undefined {
  if (origin) getRun(lab.store, origin.runId);
  return origin;
}

function assistOf(lab: Lab): AssistContext {
  return { store: lab.store, runDir: (id) => lab.jobs.runDir(id) };
}

export function annotateHandlers(ctx: HandlerContext): DomainHandlers<'annotate'> {
  const service = () => annotationOf(ctx.requireLab());
  return {
    'annotate:get': async ({ sampleId }) => service().get(sampleId),
    'annotate:set': async ({ sampleId, label, defectType, reviewState, excludedFromTraining, expectedVersion, origin }) => {
      const lab = ctx.requireLab();
      return annotationOf(lab).set(sampleId, { label, defectType, reviewState, excludedFromTraining }, expectedVersion, checkOrigin(lab, origin));
    },
    'annotate:saveMask': async ({ sampleId, png, expectedVersion, origin }) => {
      const lab = ctx.requireLab();
      return annotationOf(lab).saveMask(sampleId, Buffer.from(png, 'base64'), expectedVersion, checkOrigin(lab, origin));
    },
    'annotate:proposeMask': async (input) => proposeFromRun(assistOf(ctx.requireLab()), input),
    'annotate:proposalQueue': async ({ selection, runId }) => {
      const lab = ctx.requireLab();
      return proposalQueue(assistOf(lab), runId, selectionIds(lab, selection));
    },
    'annotate:runDisagreements': async ({ runId }) => runDisagreements(assistOf(ctx.requireLab()), runId),
    'annotate:history': async ({ sampleId }) => service().history(sampleId),
    'annotate:revert': async ({ historyId }) => service().revert(historyId),
    'annotate:bulk': async ({ selection, label, defectType, reviewState }) => {
      const lab = ctx.requireLab();
      return annotationOf(lab).bulk(selectionIds(lab, selection), { label, defectType, reviewState });
    },
    'annotate:flagTraining': async ({ selection, excluded }) => {
      const lab = ctx.requireLab();
      return annotationOf(lab).flagTraining(selectionIds(lab, selection), excluded);
    },
    'annotate:exportDataset': async ({ outDir, scenario }) => exportFromLab(ctx.requireLab(), outDir, scenario),
  };
}
