/** Plain, serialisable `*Info` objects that cross process boundaries. */
import type { Scenario } from './taxonomy';

export type Door = 'electron' | 'server' | 'cli';

/** How a dataset's folders are laid out (the store's `datasets.kind` CHECK lists the same four). */
export type DatasetKind = 'miad-mini' | 'miad' | 'mvtec' | 'folder';

export interface AppInfo {
  name: string;
  version: string;
  door: Door;
  platform: string;
  node: string;
  /** The open workspace, or null on the first screen. */
  workspace: WorkspaceInfo | null;
  /** Where `workspaces:createDemo` puts a demo when no folder is given. */
  defaultDemoDir: string;
  /** True when the door can show a native folder picker (`app:pickFolder`). */
  canPickFolder: boolean;
}

export interface WorkspaceInfo {
  dir: string;
  name: string;
  schemaVersion: number;
  createdAt: string;
  datasetCount: number;
  sampleCount: number;
}

export interface RecentWorkspace {
  dir: string;
  name: string;
  openedAt: string;
  /** False when the folder has gone or no longer holds a workspace. */
  exists: boolean;
}

export type Split = 'train' | 'test';

export interface DatasetInfo {
  id: number;
  name: string;
  /** Absolute folder the samples' relative paths start from. */
  root: string;
  kind: DatasetKind;
  createdAt: string;
  sampleCount: number;
  scenarios: string[];
}

/** Counts for one scenario: train good, test good, and test per defect type. */
export interface ScenarioCounts {
  scenario: string;
  /** Known MIAD scenario (for factors and taxonomy), or null for another category. */
  miadScenario: Scenario | null;
  trainGood: number;
  testGood: number;
  testDefects: Record<string, number>;
  masks: number;
  width: number | null;
  height: number | null;
}

export interface DatasetSummary {
  dataset: DatasetInfo;
  scenarios: ScenarioCounts[];
}

export interface SampleInfo {
  id: number;
  datasetId: number;
  scenario: string;
  split: Split;
  /** `good`, or the defect type name (folder style). */
  label: string;
  relPath: string;
  /** Absolute path of the image. */
  path: string;
  /** Absolute path of the ground-truth mask, when there is one. */
  maskPath: string | null;
  width: number;
  height: number;
}

export interface DemoProgress {
  phase: 'generating' | 'registering' | 'done';
  scenario: string | null;
  done: number;
  total: number;
}

export type RunStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** One metric value of a run, for a scenario overall (`defectType` '') or one defect type. */
export interface RunMetricInfo {
  scenario: string;
  defectType: string;
  metric: string;
  value: number | null;
  threshold: number | null;
}

export interface RunInfo {
  id: number;
  name: string;
  /** `internal`: trained and evaluated here; `external`: maps made by another tool, evaluated here. */
  kind: 'internal' | 'external';
  method: string;
  scenarios: string[];
  status: RunStatus;
  error: string | null;
  backend: string | null;
  weights: string | null;
  /** True when the backbone had random weights: every view of its results says so. */
  randomInit: boolean;
  createdAt: string;
  finishedAt: string | null;
  tags: string[];
  notes: string;
}

export interface RunDetail extends RunInfo {
  config: unknown;
  datasetRoot: string | null;
  metrics: RunMetricInfo[];
  startedAt: string | null;
  /** What the backend ran on (CPU model, wasm threads, GPU); null until a job reports it. */
  device: string | null;
  /** The job kind that made this run (src/main/core/jobs); null for external runs. */
  jobKind: string | null;
}
