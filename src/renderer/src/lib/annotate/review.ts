/**
 * Review queues of model-assisted curation (issue 19), held in the client: a list of sample ids,
 * the reason they are queued (masks proposed from a run, or a run's disagreements with the labels),
 * and the words the editor shows for them. Pure, so the wording is tested without a browser.
 */
import { SNAP_BAND_MAX, SNAP_BAND_MIN, type AnnotationOrigin, type DisagreementItem, type ProposalSnap } from '../../../../shared/calls/annotate';
import type { CheckRanking, RankedImage } from '../../../../shared/calls/checks';

/** What the editor does for a queued sample: propose a mask from a run, or ask whether a label is right. */
export type ReviewMode =
  | { kind: 'proposal'; runId: number; minArea: number; fillHoles: boolean; snap: ProposalSnap | null }
  | { kind: 'disagreement'; runId: number; threshold: number; item: DisagreementItem }
  | { kind: 'suspicion'; runId: number; of: number; item: RankedImage };

export interface ReviewQueue {
  title: string;
  sampleIds: number[];
  /** The mode of each sample (same order as sampleIds). */
  modes: ReviewMode[];
}

/** A snap band typed into a number field, as the call accepts it: a whole number within its bounds. */
export function clampBand(value: number): number {
  return Math.min(SNAP_BAND_MAX, Math.max(SNAP_BAND_MIN, Math.round(Number.isFinite(value) ? value : SNAP_BAND_MIN)));
}

export function proposalQueue(runId: number, sampleIds: readonly number[], minArea: number, fillHoles: boolean, snap: ProposalSnap | null = null): ReviewQueue {
  return {
    title: `Masks proposed from run #${runId}`,
    sampleIds: [...sampleIds],
    modes: sampleIds.map(() => ({ kind: 'proposal', runId, minArea, fillHoles, snap })),
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

/** The top of a training-set check's ranking: is this training image defective? */
export function suspicionQueue(ranking: CheckRanking): ReviewQueue {
  const c = ranking.check;
  return {
    title: `Training-set check #${c.runId} of ${c.scenario.replace(/_/g, ' ')}: top ${ranking.items.length} of ${c.images}`,
    sampleIds: ranking.items.map((i) => i.sampleId),
    modes: ranking.items.map((item) => ({ kind: 'suspicion', runId: c.runId, of: c.images, item })),
  };
}

/** The question the editor asks for a suspicious training image. */
export function suspicionText(mode: Extract<ReviewMode, { kind: 'suspicion' }>): string {
  const { item, runId, of } = mode;
  return (
    `Ranked ${item.rank + 1} of ${of} by training-set check #${runId} (score ${fmt(item.score)}, from the fold ${item.fold + 1} model that never saw it). ` +
    'Does this training image show a defect? A: flag it (out of training) · R: keep it as good.'
  );
}

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
  if (origin.kind === 'check') return `${origin.decision === 'suspicious' ? 'flagged as suspicious' : 'kept as good'} in the review of training-set check #${origin.runId}`;
  if (origin.kind === 'review') return `from the review of run #${origin.runId}'s ${origin.outcome === 'fp' ? 'false positives' : 'false negatives'}`;
  return (
    `proposed by run #${origin.runId} at threshold ${fmt(origin.threshold)}, min area ${origin.minArea} px` +
    `${origin.fillHoles ? ', holes filled' : ''}${origin.snap ? `, snapped to edges within ${origin.snap.band} px` : ''}${origin.edited ? ', edited before saving' : ''}`
  );
}
