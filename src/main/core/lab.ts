/**
 * The lab of one open workspace: everything the contract offers once a workspace is open.
 * `createLab(workspaceDir)` opens (or creates) the workspace and returns it; the host
 * (lab-host.ts) owns at most one at a time.
 */
import type { CallParsedInput, CallResult } from '../../shared/contract';
import type { DatasetKind, WorkspaceInfo } from '../../shared/types';
import type { Store, StoreOptions } from './store/store';
import { openWorkspace, workspaceInfo, type Workspace } from './workspace/workspace';
import { resolveServedFile } from './served-files';
import type { NewSample } from './store/store';
import { JobRunner, type JobEventSink, type JobsOptions } from './jobs/runner';
import { sweepMasks, type MaskSweepResult } from './annotate/mask-sweep';
import { LocalBenchExecutor } from './bench/local-executor';
import { QueueBenchExecutor } from './bench/queue-executor';
import type { RunInfo } from '../../shared/types';

export interface Lab {
  readonly dir: string;
  /** The workspace database; domain modules reach their tables through store/*-repo.ts. */
  readonly store: Store;
  /** The workspace's job runner: runs jobs in their own processes (jobs/runner.ts). */
  readonly jobs: JobRunner;
  /** Runs the workspace's local benchmarks through `jobs` (bench/local-executor.ts). */
  readonly benchmarks: LocalBenchExecutor;
  /** Runs the workspace's queue benchmarks on a Redis queue's workers (bench/queue-executor.ts). */
  readonly queueBenchmarks: QueueBenchExecutor;
  /** What the sweep of masks/ removed as the workspace opened (annotate/mask-sweep.ts). */
  readonly maskSweep: MaskSweepResult;
  info(): WorkspaceInfo;
  listDatasets(): CallResult<'datasets:list'>;
  datasetSummary(input: CallParsedInput<'datasets:summary'>): CallResult<'datasets:summary'>;
  listSamples(input: CallParsedInput<'samples:list'>): CallResult<'samples:list'>;
  addDataset(dataset: { name: string; root: string; kind: DatasetKind }, samples: readonly NewSample[]): number;
  /** The folders a client's files must really lie in: the workspace and every registered dataset root. */
  allowedRoots(): string[];
  /** The real path of a file a client may read: only files the store knows (served-files.ts). */
  resolveAllowedFile(path: string): Promise<string>;
  close(): void;
}

export interface CreateLabOptions extends StoreOptions {
  create?: boolean;
  /** How jobs are spawned, and where their events go (the host's emit). */
  jobs?: JobsOptions & { emit?: JobEventSink };
  /** The app's "force backend" setting, for benchmark cells whose matrix names no backend. */
  forcedBackend?: () => Promise<string | undefined>;
}

export async function createLab(workspaceDir: string, options: CreateLabOptions = {}): Promise<Lab> {
  const ws: Workspace = await openWorkspace(workspaceDir, options);
  const { store } = ws;
  // Stale `.tmp` files and orphan masks that killed saves left are removed before anything edits.
  // A sweep that fails (a read-only folder) never keeps the workspace from opening.
  const maskSweep = await sweepMasks(store, ws.dir).catch(() => ({ removedTmp: 0, removedOrphans: 0 }));
  const emit: JobEventSink = options.jobs?.emit ?? (() => undefined);
  // The benchmark executor follows every run the runner moves: a cell's run ending starts the next cell.
  let followRun: ((run: RunInfo) => void) | null = null;
  const jobs = new JobRunner({
    ...options.jobs,
    store,
    workspaceDir: ws.dir,
    emit: (event, payload) => {
      emit(event, payload);
      if (event === 'runs:changed') followRun?.((payload as { run: RunInfo }).run);
    },
  });
  const benchmarks = new LocalBenchExecutor({ store, jobs, workspaceDir: ws.dir, emit, ...(options.forcedBackend ? { forcedBackend: options.forcedBackend } : {}) });
  followRun = (run) => benchmarks.onRunChanged(run);
  const queueBenchmarks = new QueueBenchExecutor(() => lab, emit);
  const lab: Lab = {
    dir: ws.dir,
    store,
    jobs,
    benchmarks,
    queueBenchmarks,
    maskSweep,
    info: () => workspaceInfo(ws),
    listDatasets: () => store.listDatasets(),
    datasetSummary: ({ datasetId }) => ({ dataset: store.getDataset(datasetId), scenarios: store.scenarioCounts(datasetId) }),
    listSamples: (input) => {
      store.getDataset(input.datasetId);
      return store.listSamples(input);
    },
    addDataset: (dataset, samples) => store.addDataset(dataset, samples),
    allowedRoots: () => [ws.dir, ...store.datasetRoots()],
    resolveAllowedFile: (path) => resolveServedFile(path, { store, workspaceDir: ws.dir }),
    close: () => {
      benchmarks.close();
      queueBenchmarks.close();
      jobs.close();
      store.close();
    },
  };
  // Runs a killed app left behind are settled (and checkpointed ones resumed) as the workspace opens.
  // Benchmarks left running carry on the same way.
  if (options.jobs?.recoverOnOpen) {
    jobs.recover();
    benchmarks.resumeAll();
  }
  return lab;
}
