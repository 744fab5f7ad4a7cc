/**
 * The config diff of two runs (runs:diff): what a user needs to see to tell two runs apart is the
 * few settings that differ, not two full configs side by side. The run's identity fields and its
 * resolved config are flattened into dotted paths and only the leaves that differ are kept.
 */
import type { ConfigDiffEntry } from '../../../shared/calls/runs';
import type { RunDetail } from '../../../shared/types';

/** The part of a run that describes how it was made (not its results or bookkeeping). */
export function runSettings(run: RunDetail): Record<string, unknown> {
  return {
    method: run.method,
    kind: run.kind,
    backend: run.backend,
    weights: run.weights,
    randomInit: run.randomInit,
    scenarios: run.scenarios,
    config: run.config,
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Flattens nested plain objects into dotted paths. Arrays are leaves: a list of layers or
 * scenarios reads better whole than as `layers.0`, `layers.1`. An empty object is a leaf too,
 * so `{}` against a missing key still shows.
 */
export function flattenSettings(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (isPlainObject(value) && (Object.keys(value).length > 0 || prefix === '')) {
    for (const [key, child] of Object.entries(value)) flattenSettings(child, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}

function sameLeaf(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The leaves where `a` and `b` differ, sorted by path; a key missing on one side is `undefined` there. */
export function diffSettings(a: unknown, b: unknown): ConfigDiffEntry[] {
  const fa = flattenSettings(a);
  const fb = flattenSettings(b);
  const paths = new Set([...fa.keys(), ...fb.keys()]);
  const out: ConfigDiffEntry[] = [];
  for (const path of paths) {
    const va = fa.get(path);
    const vb = fb.get(path);
    if (!sameLeaf(va, vb)) out.push({ path, a: va, b: vb });
  }
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/** Only what differs between two runs' settings. */
export function diffRuns(a: RunDetail, b: RunDetail): ConfigDiffEntry[] {
  return diffSettings(runSettings(a), runSettings(b));
}
