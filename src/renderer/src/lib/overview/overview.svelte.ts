/**
 * Overview data for the open workspace: its datasets with their summaries, and the example
 * images per scenario (one normal, one per defect type), loaded once per workspace.
 */
import type { DatasetInfo, DatasetSummary, SampleInfo } from '../../../../shared/types';
import { lab } from '../api';
import { describeError } from '../app/errors';
import type { SummaryRow } from './summary-rows';
import { exampleSlots } from './summary-rows';

export interface ExampleItem {
  label: string;
  caption: string;
  defect: boolean;
  sample: SampleInfo | null;
  error: string | null;
}

export interface ExampleStrip {
  loading: boolean;
  items: ExampleItem[];
}

export const overview = $state({
  /** Workspace folder the data below belongs to. */
  workspaceDir: null as string | null,
  loading: false,
  error: null as string | null,
  datasets: [] as DatasetInfo[],
  summaries: {} as Record<number, DatasetSummary>,
  summaryErrors: {} as Record<number, string>,
  /** Keyed by `<datasetId>/<scenario>`. */
  examples: {} as Record<string, ExampleStrip>,
  showMasks: true,
});

let generation = 0;

export async function loadOverview(workspaceDir: string, force = false): Promise<void> {
  if (!force && overview.workspaceDir === workspaceDir && (overview.loading || overview.error === null)) return;
  const mine = ++generation;
  overview.workspaceDir = workspaceDir;
  overview.loading = true;
  overview.error = null;
  overview.datasets = [];
  overview.summaries = {};
  overview.summaryErrors = {};
  overview.examples = {};
  try {
    const datasets = await lab['datasets:list']({});
    if (mine !== generation) return;
    overview.datasets = datasets;
    await Promise.all(
      datasets.map(async (dataset) => {
        try {
          const summary = await lab['datasets:summary']({ datasetId: dataset.id });
          if (mine === generation) overview.summaries[dataset.id] = summary;
        } catch (error) {
          if (mine === generation) overview.summaryErrors[dataset.id] = describeError(error);
        }
      }),
    );
  } catch (error) {
    if (mine === generation) overview.error = describeError(error);
  } finally {
    if (mine === generation) overview.loading = false;
  }
}

export function exampleKey(datasetId: number, scenario: string): string {
  return `${datasetId}/${scenario}`;
}

/** Fetches one test sample per slot of the row (`samples:list`, limit 1). */
export async function loadExamples(datasetId: number, row: SummaryRow): Promise<void> {
  const key = exampleKey(datasetId, row.scenario);
  if (overview.examples[key]) return;
  const mine = generation;
  const slots = exampleSlots(row);
  overview.examples[key] = {
    loading: true,
    items: slots.map((slot) => ({ ...slot, sample: null, error: null })),
  };
  await Promise.all(
    slots.map(async (slot, index) => {
      let sample: SampleInfo | null = null;
      let error: string | null = null;
      try {
        const page = await lab['samples:list']({ datasetId, scenario: row.scenario, split: 'test', label: slot.label, limit: 1 });
        sample = page.samples[0] ?? null;
        if (sample === null) error = 'no test image';
      } catch (caught) {
        error = describeError(caught);
      }
      const strip = mine === generation ? overview.examples[key] : undefined;
      const item = strip?.items[index];
      if (item) {
        item.sample = sample;
        item.error = error;
      }
    }),
  );
  const strip = mine === generation ? overview.examples[key] : undefined;
  if (strip) strip.loading = false;
}
