/**
 * Review queues of model-assisted curation (issue 19), held in the client: a list of sample ids,
 * the reason they are queued (masks proposed from a run, or a run's disagreements with the labels),
 * and the words the editor shows for them. Pure, so the wording is tested without a browser.
 */
import type { AnnotationOrigin, DisagreementItem } from '../../../../shared/calls/annotate';

/** What the editor does for a queued sample: propose a mask from a run, or ask whether a label is right. */
export type ReviewMode =
  | { kind: 'proposal'; runId: number; minArea: number; fillHoles: boolean }
  | { kind: 'disagreement'; runId: number; threshold: number; item: DisagreementItem };

export interface ReviewQueue {
  title: string;
  sampleIds: number[];
  /** The mode of each sample (same order as sampleIds). */
  modes: ReviewMode[];
}

export function proposalQueue(runId: number, sampleIds: readonly number[], minArea: number, fillHoles: boolean): ReviewQueue {
  return {
    title: `Masks proposed from run #${runId}`,
    sampleIds: [...sampleIds],
    modes: sampleIds.map(() => ({ kind: 'proposal', runId, minArea, fillHoles })),
  };
}

export function disagreementQueue(runId: number, threshold: number, items: readonly DisagreementItem[]): ReviewQueue {
  return {
    title: `Run #${runId}: is this label right?`,
    sampleIds: items.map((i) => i.sampleId),
    modes: items.map((item) => ({ kind: 'disagreement', runId, threshold, item })),
  };
}

const fmt = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3));

/** The question the editor asks for a disagreement. */
export function disagreementText(mode: Extract<ReviewMode, { kind: 'disagreement' }>): string {
  const { item, runId, threshold } = mode;
  const label = item.label.replace(/_/g, ' ');
  return item.outcome === 'fp'
    ? `False positive of run #${runId}: scored ${fmt(item.score)} ≥ ${fmt(threshold)} (its image F1-max threshold) but labelled ${label}. Is this label right?`
    : `False negative of run #${runId}: scored ${fmt(item.score)} < ${fmt(threshold)} (its image F1-max threshold) but labelled ${label}. Is this label right?`;
}

/** One line for a history entry's origin. */
export function originText(origin: AnnotationOrigin): string {
  if (origin.kind === 'review') return `from the review of run #${origin.runId}'s ${origin.outcome === 'fp' ? 'false positives' : 'false negatives'}`;
  return (
    `proposed by run #${origin.runId} at threshold ${fmt(origin.threshold)}, min area ${origin.minArea} px` +
    `${origin.fillHoles ? ', holes filled' : ''}${origin.edited ? ', edited before saving' : ''}`
  );
}
