/**
 * Words for the editor's history panel: what one annotation history entry changed, old → new,
 * one line per field. Pure, so the wording is tested without a browser.
 */
import type { AnnotationChange, AnnotationHistoryEntry } from '../../../../shared/calls/annotate';
import { originText } from './review';

const KIND_WORDS: Record<AnnotationChange['kind'], string> = {
  set: 'Edit',
  bulk: 'Bulk edit',
  mask: 'Mask saved',
  revert: 'Revert',
  flagTraining: 'Training flag',
};

function words(value: string | null): string {
  return value === null ? '—' : value.replace(/_/g, ' ');
}

function maskWords(path: string | null): string {
  return path === null ? 'dataset mask' : `edit ${path.slice(path.lastIndexOf('/') + 1).split('.')[1] ?? ''}`.trim();
}

export function entryTitle(entry: AnnotationHistoryEntry): string {
  return entry.change.revertOf !== undefined ? `${KIND_WORDS.revert} of #${entry.change.revertOf}` : KIND_WORDS[entry.change.kind];
}

/** One "field: old → new" line per field the entry changed. */
export function changeLines(change: AnnotationChange): string[] {
  const lines: string[] = [];
  if (change.label) lines.push(`label: ${words(change.label[0])} → ${words(change.label[1])}`);
  if (change.defectType) lines.push(`defect type: ${words(change.defectType[0])} → ${words(change.defectType[1])}`);
  if (change.reviewState) lines.push(`review: ${words(change.reviewState[0])} → ${words(change.reviewState[1])}`);
  if (change.mask) lines.push(`mask: ${maskWords(change.mask[0])} → ${maskWords(change.mask[1])}`);
  if (change.excludedFromTraining) {
    const t = (v: boolean) => (v ? 'excluded' : 'included');
    lines.push(`training: ${t(change.excludedFromTraining[0])} → ${t(change.excludedFromTraining[1])}`);
  }
  if (change.origin) lines.push(originText(change.origin));
  return lines;
}
