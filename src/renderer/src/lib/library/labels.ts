/** Display names of the Library's facet values and sorts (pure, shared by the panel and tiles). */
import type { LibraryFacet, LibrarySortKey } from '../../../../shared/calls/library';
import { SCENARIO_INFO, isScenario } from '../../../../shared/taxonomy';

export const FACET_TITLES: Record<LibraryFacet, string> = {
  scenario: 'Scenario',
  split: 'Split',
  kind: 'Good / anomalous',
  label: 'Defect type',
  mask: 'Mask',
  problems: 'Problems',
  review: 'Review state',
  training: 'Training',
  suspicion: 'Suspicion (training-set check)',
};

export const SORT_LABELS: Record<LibrarySortKey, string> = {
  default: 'Scenario, split, label',
  path: 'Path',
  label: 'Defect type',
  fileSize: 'File size',
  imported: 'Import order',
};

export function humanize(name: string): string {
  return name.replace(/_/g, ' ');
}

export function facetValueLabel(facet: LibraryFacet, value: string): string {
  switch (facet) {
    case 'scenario':
      return isScenario(value) ? SCENARIO_INFO[value].label : value;
    case 'split':
      return value === 'train' ? 'Train' : value === 'test' ? 'Test' : value;
    case 'kind':
      return value === 'good' ? 'Good' : 'Anomalous';
    case 'mask':
      return value === 'with' ? 'With mask' : 'Without mask';
    case 'problems':
      return value === 'none' ? 'No problems' : humanize(value);
    case 'label':
      return humanize(value);
    case 'review':
      return value.charAt(0).toUpperCase() + value.slice(1);
    case 'training':
      return value === 'excluded' ? 'Excluded (flagged)' : 'Included';
    case 'suspicion':
      return value === 'unchecked' ? 'Not checked' : value === 'rest' ? 'Rest' : `Top ${value.slice(4)}`;
  }
}

/** "1.2 MB" style sizes. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return 'unknown';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}
