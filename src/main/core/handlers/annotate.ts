/**
 * Handlers of the `annotate:*` calls. One AnnotationService per open Lab (kept in a WeakMap, so
 * a closed workspace's service goes with it); inputs arrive validated in shape, and the service
 * checks what only the workspace can (Table A.1 for the sample's scenario, versions, mask size).
 * Selections resolve through the Library, so a bulk edit hits exactly what the grid shows.
 */
import type { Lab } from '../lab';
import { AnnotationService } from '../annotate/annotation-service';
import { AnnotationRepo } from '../store/annotation-repo';
import { LabError } from '../../../shared/errors';
import { ANNOTATE_BULK_MAX } from '../../../shared/calls/annotate';
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

export function annotateHandlers(ctx: HandlerContext): DomainHandlers<'annotate'> {
  const service = () => annotationOf(ctx.requireLab());
  return {
    'annotate:get': async ({ sampleId }) => service().get(sampleId),
    'annotate:set': async ({ sampleId, label, defectType, reviewState, expectedVersion }) =>
      service().set(sampleId, { label, defectType, reviewState }, expectedVersion),
    'annotate:saveMask': async ({ sampleId, png, expectedVersion }) => service().saveMask(sampleId, Buffer.from(png, 'base64'), expectedVersion),
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
  };
}
