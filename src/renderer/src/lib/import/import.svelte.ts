/**
 * State of the import dialog and of the import-report view. The dialog is a small state machine:
 * `path` (type or pick a folder) → `scanned` (what was detected; map the unmapped defect folders)
 * → `importing` (progress from `import:progress`) → `done` (the report). Rescans reuse the
 * progress and report parts from the Overview's per-dataset actions.
 */
import {
  SKIP,
  mappingKey,
  type DefectFolder,
  type FolderMapping,
  type ImportProgress,
  type ImportReport,
  type ImportReportEntry,
  type ImportScan,
} from '../../../../shared/calls/import';
import { lab, onEvent } from '../api';
import { describeError } from '../app/errors';

export type ImportStep = 'path' | 'scanning' | 'scanned' | 'importing' | 'done';

export const importer = $state({
  open: false,
  step: 'path' as ImportStep,
  root: '',
  name: '',
  canPickFolder: false,
  scan: null as ImportScan | null,
  /** The user's choice per defect folder key (`scenario/folder`): a type, `skip`, or '' (none yet). */
  choices: {} as Record<string, string>,
  progress: null as ImportProgress | null,
  error: null as string | null,
  report: null as ImportReport | null,
});

export const reportView = $state({
  open: false,
  datasetId: null as number | null,
  loading: false,
  error: null as string | null,
  entries: [] as ImportReportEntry[],
  selected: null as number | null,
  report: null as ImportReport | null,
  /** Dataset id being rescanned, with its progress. */
  rescanning: null as number | null,
  progress: null as ImportProgress | null,
});

let unsubscribe: (() => void) | null = null;

function listenProgress(target: { progress: ImportProgress | null }): void {
  unsubscribe?.();
  unsubscribe = onEvent('import:progress', (p) => {
    target.progress = p;
  });
}

function stopProgress(): void {
  unsubscribe?.();
  unsubscribe = null;
}

export async function openImportDialog(): Promise<void> {
  Object.assign(importer, { open: true, step: 'path', scan: null, choices: {}, progress: null, error: null, report: null, name: '' });
  try {
    importer.canPickFolder = (await lab['app:info']({})).canPickFolder;
  } catch {
    importer.canPickFolder = false;
  }
}

export function closeImportDialog(): void {
  if (importer.step === 'importing' || importer.step === 'scanning') return;
  importer.open = false;
  stopProgress();
}

export async function browseFolder(): Promise<void> {
  try {
    const { path } = await lab['app:pickFolder']({ title: 'Choose a dataset folder to import' });
    if (path !== null) {
      importer.root = path;
      await scanRoot();
    }
  } catch (error) {
    importer.error = describeError(error);
  }
}

/** The choice each folder starts with: its proposed target, or '' while unmapped. */
function initialChoices(scan: ImportScan): Record<string, string> {
  return Object.fromEntries(scan.folders.map((f) => [mappingKey(f.scenario, f.folder), f.target ?? '']));
}

export async function scanRoot(): Promise<void> {
  const root = importer.root.trim();
  if (root === '') {
    importer.error = 'Type the path of the dataset folder.';
    return;
  }
  importer.step = 'scanning';
  importer.error = null;
  importer.scan = null;
  listenProgress(importer);
  try {
    const scan = await lab['import:scan']({ root });
    importer.scan = scan;
    importer.choices = initialChoices(scan);
    if (importer.name === '') importer.name = scan.suggestedName;
    importer.step = 'scanned';
  } catch (error) {
    importer.error = describeError(error);
    importer.step = 'path';
  } finally {
    stopProgress();
    importer.progress = null;
  }
}

/** Folders whose choice is still empty. */
export function stillUnmapped(scan: ImportScan, choices: Record<string, string>): DefectFolder[] {
  return scan.folders.filter((f) => (choices[mappingKey(f.scenario, f.folder)] ?? '') === '');
}

/** The mapping to send: every choice that differs from what the scan proposed. */
export function mappingFromChoices(scan: ImportScan, choices: Record<string, string>): FolderMapping {
  const mapping: FolderMapping = {};
  for (const f of scan.folders) {
    const key = mappingKey(f.scenario, f.folder);
    const choice = choices[key] ?? '';
    if (choice !== '' && choice !== f.target) mapping[key] = choice;
  }
  return mapping;
}

export async function runImport(onImported: () => void): Promise<void> {
  const scan = importer.scan;
  if (!scan || stillUnmapped(scan, importer.choices).length > 0) return;
  importer.step = 'importing';
  importer.error = null;
  importer.progress = null;
  listenProgress(importer);
  try {
    const result = await lab['import:run']({
      root: scan.root,
      mapping: mappingFromChoices(scan, importer.choices),
      ...(importer.name.trim() ? { name: importer.name.trim() } : {}),
    });
    importer.report = result.report;
    importer.step = 'done';
    onImported();
  } catch (error) {
    importer.error = describeError(error);
    importer.step = 'scanned';
  } finally {
    stopProgress();
  }
}

export async function showReports(datasetId: number, reportId?: number): Promise<void> {
  Object.assign(reportView, { open: true, datasetId, loading: true, error: null, entries: [], selected: null, report: null });
  try {
    const entries = await lab['import:reports']({ datasetId });
    reportView.entries = entries;
    if (entries.length === 0) {
      reportView.error = 'This dataset has no import report: it was registered without the importer (a generated demo). Rescan it to make one.';
      return;
    }
    await selectReport(reportId ?? entries[0]!.id);
  } catch (error) {
    reportView.error = describeError(error);
  } finally {
    reportView.loading = false;
  }
}

export async function selectReport(reportId: number): Promise<void> {
  reportView.selected = reportId;
  try {
    reportView.report = (await lab['import:report']({ reportId })).report;
  } catch (error) {
    reportView.error = describeError(error);
  }
}

export function closeReports(): void {
  reportView.open = false;
}

/** Rescans a dataset, then shows its new report. A folder that now needs mapping is reported as an error. */
export async function rescan(datasetId: number, onChanged: () => void): Promise<void> {
  reportView.rescanning = datasetId;
  reportView.progress = null;
  listenProgress(reportView);
  try {
    const result = await lab['import:rescan']({ datasetId });
    onChanged();
    await showReports(datasetId, result.reportId);
  } catch (error) {
    Object.assign(reportView, { open: true, datasetId, loading: false, entries: [], report: null, error: describeError(error) });
  } finally {
    stopProgress();
    reportView.rescanning = null;
  }
}

export { SKIP };
