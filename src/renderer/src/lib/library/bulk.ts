/**
 * The Library's bulk edit, in pure functions: which defect types a selection may be given (those
 * Table A.1 allows for every scenario in it: the core refuses any other for any sample, and one
 * refusal changes nothing), and the sentence the confirmation shows. No DOM, so tests need none.
 */
import type { AnnotationLabel, ReviewState } from '../../../../shared/calls/annotate';
import { SCENARIO_INFO, isScenario } from '../../../../shared/taxonomy';
import { humanize } from './labels';

/** What one bulk edit sets; an absent field stays as it is. `defectType: null` clears it. */
export interface BulkPatch {
  label?: AnnotationLabel;
  defectType?: string | null;
  reviewState?: ReviewState;
  /** true: exclude from training sets (flag); false: include again. */
  excluded?: boolean;
}

/**
 * The defect types valid for every one of `scenarios`, in Table A.1 order of the first one; none
 * when a scenario is outside MIAD or the list is empty.
 */
export function commonDefectTypes(scenarios: readonly string[]): string[] {
  const unique = [...new Set(scenarios)];
  if (unique.length === 0 || !unique.every(isScenario)) return [];
  const [first, ...rest] = unique.map((s) => SCENARIO_INFO[s as keyof typeof SCENARIO_INFO].defects as readonly string[]);
  return first!.filter((t) => rest.every((r) => r.includes(t)));
}

export function isEmptyPatch(patch: BulkPatch): boolean {
  return patch.label === undefined && patch.defectType === undefined && patch.reviewState === undefined && patch.excluded === undefined;
}

/** "Set defect type to weld pit and review to reviewed on 12 samples?" */
export function confirmText(patch: BulkPatch, count: number): string {
  const parts: string[] = [];
  if (patch.label !== undefined) parts.push(`label to ${patch.label}`);
  if (patch.defectType !== undefined) parts.push(patch.defectType === null ? 'no defect type' : `defect type to ${humanize(patch.defectType)}`);
  if (patch.reviewState !== undefined) parts.push(`review to ${patch.reviewState}`);
  const sets = parts.length > 0 ? `Set ${parts.join(', ')}` : '';
  const flag = patch.excluded === undefined ? '' : patch.excluded ? 'exclude from training' : 'include in training';
  const what = [sets, flag].filter(Boolean).join(' and ');
  const n = `${count.toLocaleString('en')} ${count === 1 ? 'sample' : 'samples'}`;
  return `${what.charAt(0).toUpperCase()}${what.slice(1)} on ${n}?`;
}
