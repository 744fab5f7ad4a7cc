/**
 * `miad-lab bench create|start|status|cancel|list --workspace W`: benchmark matrices from the
 * command line, a thin door over the contract's `bench:*` calls through a lab host (the same calls
 * the app makes). Not to be confused with `bench-generate` (the MIAD-mini generator's benchmark).
 *
 * `start` runs the benchmark in this process, one cell at a time, and follows its progress until
 * it is done. Ctrl+C detaches: this process stops (the running cell's run keeps its checkpoint and
 * is queued again), the benchmark stays `running` in the workspace, and it carries on where it
 * stopped the next time the app, the server or `bench start` opens the workspace. `bench cancel`
 * cancels it.
 */
import { resolve } from 'node:path';
import { BACKEND_NAMES, isBackendName } from '../../../shared/backends';
import type { BenchEstimate, BenchmarkDetail, BenchmarkInfo, BenchTable } from '../../../shared/calls/bench';
import type { JobKindInfo } from '../../../shared/calls/runs';
import { formatPercent, METRIC_LABELS } from '../../../shared/compare/format';
import { SCENARIOS } from '../../../shared/taxonomy';
import { openCliHost } from '../host';
import { UsageError, intOption, requiredString, stringOption, type CliIO, type VerbSpec } from '../verb';
import { parseOverrides } from './train';

const SUBCOMMANDS = ['create', 'start', 'status', 'cancel', 'list'] as const;
type Sub = (typeof SUBCOMMANDS)[number];


function list(raw: string | undefined, flag: string): string[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`--${flag} expects comma-separated names`);
  return items;
}

function cellLine(c: BenchmarkDetail['cells'][number]): string {
  const what = `${c.method} ${c.preset} · ${c.scenarios.join(', ')} · seed ${c.seed}`;
  return `  #${String(c.id).padEnd(4)} ${c.state.padEnd(9)} ${what}${c.runId !== null ? `  (run #${c.runId})` : ''}${c.reason ? `: ${c.reason}` : ''}`;
}

function printCounts(io: CliIO, b: BenchmarkInfo): void {
  const parts = (['done', 'running', 'queued', 'pending', 'failed', 'cancelled'] as const).filter((s) => b.counts[s] > 0).map((s) => `${b.counts[s]} ${s}`);
  io.out(`Benchmark #${b.id} "${b.name}": ${b.state}, ${b.total} cell${b.total === 1 ? '' : 's'} (${parts.join(', ') || 'none'})`);
}

function printTable(io: CliIO, table: BenchTable): void {
  for (const { preset, paper } of table.presets) {
    if (paper.rows.length === 0) continue;
    io.out(`${METRIC_LABELS.image_auroc} (${preset}), ×100${paper.rows.some((r) => r.cells.image_auroc.some((c) => c.n !== undefined)) ? ', mean ± std over seeds' : ''}:`);
    io.out(['method'.padEnd(14), ...paper.scenarios.map((s) => s.slice(0, 14).padStart(14)), '    mean'].join(' '));
    for (const row of paper.rows) {
      const cells = row.cells.image_auroc.map((c) => `${formatPercent(c.value)}${c.std !== undefined ? ` ± ${formatPercent(c.std)}` : ''}`.padStart(14));
      io.out([row.label.padEnd(14), ...cells, formatPercent(row.mean.image_auroc.value).padStart(8)].join(' '));
    }
  }
}

export const benchVerb: VerbSpec = {
  name: 'bench',
  summary: 'benchmark matrices: create, start (runs here, resumable), status, cancel, list',
  details: [
    'Sub-commands:',
    '  create   store a matrix (nothing runs) and print its estimate: time per cell and in total on the',
    '           backend, disk for anomaly maps and the feature cache, and the cells that cannot run here and why',
    '             --paper: every method with its paper preset on the seven scenarios, one seed',
    '             or --methods A,B|all --scenarios A,B|all [--presets P,Q] [--seeds 1,2] [--set method.key=value ...]',
    '  start    run it in this process, one cell at a time, following progress until it is done.',
    '           Ctrl+C detaches: the benchmark stays running in the workspace and carries on where it',
    '           stopped when the app, the server or `bench start` opens the workspace again.',
    '  status   its cells, their runs, and the paper table so far (image AUROC; mean ± std over seeds)',
    '  cancel   cancel the running cell (if this process runs it) and every pending cell',
    '  list     the benchmarks of the workspace',
    '',
    'A unified method (UniAD) is one cell per seed and preset spanning every scenario.',
    "--weights pretrained (default) needs each backbone's pretrained weights in the workspace cache",
    '(`miad-lab weights fetch|import`); --weights random runs seeded random backbones (demos, tests).',
    '',
    'Examples:',
    '  miad-lab bench create --workspace W --paper',
    '  miad-lab bench create --workspace W --methods patchcore,autoencoder --scenarios nut_and_bolt,wind_turbine --presets fast --weights random --set autoencoder.epochs=5',
    '  miad-lab bench start --workspace W --benchmark 1',
    '  miad-lab bench create --workspace W --execution queue --methods patchcore --scenarios all --presets fast --weights random',
    '  MIAD_QUEUE_URL=redis://coordinator:PASSWORD@10.0.0.5:6379 miad-lab bench start --workspace W --benchmark 2',
  ].join('\n'),
  options: {
    workspace: { type: 'string', value: 'W', description: 'the workspace folder', required: true },
    benchmark: { type: 'string', value: 'ID', description: 'start, status, cancel: the benchmark' },
    paper: { type: 'boolean', description: "create: every method's paper preset on the seven scenarios, one seed" },
    methods: { type: 'string', value: 'A,B|all', description: 'create: methods' },
    scenarios: { type: 'string', value: 'A,B|all', description: "create: scenarios (all: the dataset's)" },
    presets: { type: 'string', value: 'P,Q', description: 'create: presets every method runs with (default paper)' },
    seeds: { type: 'string', value: 'N,M', description: "create: seeds (default: each preset's own, one cell)" },
    set: { type: 'string', value: 'METHOD.KEY=VALUE', description: 'create: override one preset value of a method (repeatable)', multiple: true },
    weights: { type: 'string', value: 'pretrained|random', description: 'create: backbone weights (default pretrained)' },
    backend: { type: 'string', value: 'B', description: `create: force a backend: ${BACKEND_NAMES.join(', ')}` },
    dataset: { type: 'string', value: 'ID', description: 'create: dataset id (default: the only one holding the scenarios)' },
    name: { type: 'string', value: 'NAME', description: 'create: name of the benchmark' },
    execution: { type: 'string', value: 'local|queue', description: "create: run the cells in this process (default) or on a Redis queue's workers (`miad-lab worker`)" },
    queue: { type: 'string', value: 'URL', description: "start: a queue benchmark's queue, redis://user:password@host:port (default: $MIAD_QUEUE_URL)" },
  },
  positionals: [{ name: 'SUBCOMMAND', description: SUBCOMMANDS.join(' | '), required: true }],
  async run({ options, positionals }, io) {
    const sub = positionals[0] as Sub;
    if (!SUBCOMMANDS.includes(sub)) throw new UsageError(`unknown sub-command ${JSON.stringify(positionals[0])}; use one of ${SUBCOMMANDS.join(', ')}`);
    if (sub !== 'start' && options.queue !== undefined) throw new UsageError('--queue applies to bench start only');
    const createOnly = ['paper', 'methods', 'scenarios', 'presets', 'seeds', 'set', 'weights', 'backend', 'dataset', 'name', 'execution'].filter((k) => options[k] !== undefined);
    if (sub !== 'create' && createOnly.length) throw new UsageError(`${createOnly.map((k) => `--${k}`).join(', ')} appl${createOnly.length === 1 ? 'ies' : 'y'} to bench create only`);
    const needsId = sub === 'start' || sub === 'status' || sub === 'cancel';
    if (!needsId && options.benchmark !== undefined) throw new UsageError(`--benchmark does not apply to bench ${sub}`);
    const benchmarkId = needsId ? intOption(options, 'benchmark', 0, 1) : 0;
    if (needsId && options.benchmark === undefined) throw new UsageError(`bench ${sub} needs --benchmark ID`);
    const workspace = resolve(requiredString(options, 'workspace'));
    // Only `start` adopts what a stopped process left (its benchmark's interrupted cell); the others only read and write rows.
    const host = openCliHost({ recoverJobs: sub === 'start' });
    const call = <T>(name: string, input: unknown) => host.call(name as never, input as never) as Promise<T>;
    try {
      const { state } = await host.call('workspaces:inspect', { dir: workspace });
      if (state !== 'workspace') throw new UsageError(`--workspace ${workspace} is not a MIAD Lab workspace`);
      await host.call('workspaces:open', { dir: workspace });
      switch (sub) {
        case 'list': {
          const all = await call<BenchmarkInfo[]>('bench:list', {});
          if (!io.json) {
            if (all.length === 0) io.out('No benchmarks in this workspace: create one with `miad-lab bench create`.');
            for (const b of all) printCounts(io, b);
          }
          return all;
        }
        case 'create': {
          const weights = stringOption(options, 'weights');
          if (weights !== undefined && weights !== 'pretrained' && weights !== 'random') throw new UsageError(`--weights is pretrained or random, got ${JSON.stringify(weights)}`);
          const execution = stringOption(options, 'execution');
          if (execution !== undefined && execution !== 'local' && execution !== 'queue') throw new UsageError(`--execution is local or queue, got ${JSON.stringify(execution)}`);
          const backend = stringOption(options, 'backend');
          if (backend !== undefined && !isBackendName(backend)) throw new UsageError(`--backend is one of ${BACKEND_NAMES.join(', ')}, got ${JSON.stringify(backend)}`);
          let methods = list(stringOption(options, 'methods'), 'methods');
          let scenarios = list(stringOption(options, 'scenarios'), 'scenarios');
          let presets = list(stringOption(options, 'presets'), 'presets');
          const seedText = list(stringOption(options, 'seeds'), 'seeds');
          const seeds = seedText?.map((s) => {
            if (!/^\d+$/.test(s)) throw new UsageError(`--seeds expects comma-separated non-negative integers, got ${JSON.stringify(s)}`);
            return Number(s);
          });
          const kinds = await call<JobKindInfo[]>('runs:kinds', {});
          const allMethods = kinds.filter((k) => k.method !== null).map((k) => k.name);
          if (options.paper === true) {
            if (methods || scenarios || presets || seeds) throw new UsageError('--paper is the whole paper matrix: leave out --methods, --scenarios, --presets and --seeds');
            methods = allMethods;
            scenarios = [...SCENARIOS];
            presets = ['paper'];
          }
          if (!methods) throw new UsageError('bench create needs --methods (or --paper)');
          if (!scenarios) throw new UsageError('bench create needs --scenarios (or --paper)');
          if (methods.length === 1 && methods[0] === 'all') methods = allMethods;
          if (scenarios.length === 1 && scenarios[0] === 'all') {
            const datasets = await call<{ id: number; scenarios: string[] }[]>('datasets:list', {});
            const datasetId = options.dataset === undefined ? undefined : intOption(options, 'dataset', 0, 1);
            const chosen = datasetId === undefined ? (datasets.length === 1 ? datasets[0] : undefined) : datasets.find((d) => d.id === datasetId);
            if (!chosen) throw new UsageError(datasetId === undefined ? '--scenarios all needs one dataset: choose it with --dataset' : `no dataset with id ${datasetId}`);
            scenarios = chosen.scenarios;
          }
          const overrides: Record<string, Record<string, unknown>> = {};
          for (const [key, value] of Object.entries(parseOverrides(options))) {
            const dot = key.indexOf('.');
            if (dot <= 0 || dot === key.length - 1) throw new UsageError(`--set expects method.key=value (e.g. autoencoder.epochs=5), got ${JSON.stringify(key)}`);
            (overrides[key.slice(0, dot)] ??= {})[key.slice(dot + 1)] = value;
          }
          const name = stringOption(options, 'name') ?? (options.paper === true ? 'Reproduce the paper' : undefined);
          const created = await call<BenchmarkDetail>('bench:create', {
            methods,
            scenarios,
            presets: presets ?? ['paper'],
            ...(seeds ? { seeds } : {}),
            ...(Object.keys(overrides).length ? { overrides } : {}),
            ...(weights ? { weights } : {}),
            ...(backend ? { backend } : {}),
            ...(options.dataset !== undefined ? { datasetId: intOption(options, 'dataset', 0, 1) } : {}),
            ...(name ? { name } : {}),
            ...(execution ? { execution } : {}),
          });
          const estimate = await call<BenchEstimate>('bench:estimate', { benchmarkId: created.id }).catch((error: unknown) => {
            io.err(`No estimate: ${error instanceof Error ? error.message : String(error)}`);
            return null;
          });
          if (!io.json) {
            printCounts(io, created);
            for (const line of estimate?.text ?? []) io.out(line);
            io.out(`Start it with: miad-lab bench start --workspace ${workspace} --benchmark ${created.id}`);
          }
          return { benchmark: created, estimate };
        }
        case 'status': {
          const b = await call<BenchmarkDetail>('bench:get', { benchmarkId });
          const table = await call<BenchTable>('bench:table', { benchmarkId });
          if (!io.json) {
            printCounts(io, b);
            for (const c of b.cells) io.out(cellLine(c));
            printTable(io, table);
          }
          return { benchmark: b, table };
        }
        case 'cancel': {
          const b = await call<BenchmarkDetail>('bench:cancel', { benchmarkId });
          if (!io.json) printCounts(io, b);
          return b;
        }
        case 'start': {
          let settle: (b: BenchmarkDetail) => void = () => undefined;
          const ended = new Promise<BenchmarkDetail>((r) => (settle = r));
          let cellOfRun = new Map<number, string>();
          let lastLine = 0;
          host.on('bench:changed', ({ benchmark: b }) => {
            if (b.id !== benchmarkId) return;
            const before = cellOfRun;
            cellOfRun = new Map(b.cells.filter((c) => c.runId !== null).map((c) => [c.runId!, `${c.method} ${c.preset} · ${c.scenarios.join(', ')} · seed ${c.seed}`]));
            if (!io.json) {
              for (const c of b.cells) if (c.runId !== null && !before.has(c.runId)) io.err(`Cell #${c.id} started as run #${c.runId}: ${cellOfRun.get(c.runId)}`);
              const finished = b.counts.done + b.counts.failed + b.counts.cancelled;
              io.err(`  ${finished} / ${b.total} cells finished (${b.counts.done} done, ${b.counts.failed} failed)`);
            }
            if (b.state === 'done' || b.state === 'cancelled') settle(b);
          });
          host.on('runs:progress', (p) => {
            if (io.json) return;
            const now = Date.now();
            if (!cellOfRun.has(p.runId) || (now - lastLine < 2000 && p.step < p.total)) return;
            lastLine = now;
            io.err(`    run #${p.runId} ${p.phase} ${p.step} / ${p.total}${p.loss !== undefined ? `  loss ${p.loss.toPrecision(4)}` : ''}`);
          });
          let detached = false;
          const onSigint = () => {
            detached = true;
            io.err('Detached: the benchmark stays running in the workspace and carries on when it is opened again (miad-lab bench cancel to stop it).');
            void call<BenchmarkDetail>('bench:get', { benchmarkId }).then(settle, () => undefined);
          };
          process.on('SIGINT', onSigint);
          try {
            // $MIAD_QUEUE_URL (which keeps the password out of the process list) serves queue benchmarks only.
            const { execution } = await call<BenchmarkDetail>('bench:get', { benchmarkId });
            const queue = stringOption(options, 'queue') ?? (execution === 'queue' ? process.env['MIAD_QUEUE_URL'] || undefined : undefined);
            const started = await call<BenchmarkDetail>('bench:start', { benchmarkId, ...(queue !== undefined ? { queue } : {}) });
            if (!io.json) {
              printCounts(io, started);
              const estimate = await call<BenchEstimate>('bench:estimate', { benchmarkId }).catch(() => null);
              for (const line of estimate?.text ?? []) io.err(`  ${line}`);
            }
            if (started.state === 'done' || started.state === 'cancelled') settle(started);
            const b = await ended;
            const table = await call<BenchTable>('bench:table', { benchmarkId });
            if (!io.json) {
              printCounts(io, b);
              for (const c of b.cells) if (c.state === 'failed') io.out(cellLine(c));
              printTable(io, table);
            }
            if (!detached && b.state === 'done' && b.counts.failed > 0) throw new Error(`${b.counts.failed} of ${b.total} cells failed (bench status shows why)`);
            return { benchmark: b, table, detached };
          } finally {
            process.off('SIGINT', onSigint);
          }
        }
      }
    } finally {
      await host.close();
    }
  },
};
