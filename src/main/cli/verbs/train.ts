/**
 * `miad-lab train`: trains and evaluates a method on one scenario of a workspace's dataset, as a
 * run in its own job process (the same path the app takes), printing progress and the metrics.
 */
import { resolve } from 'node:path';
import { BACKEND_NAMES, isBackendName } from '../../../shared/backends';
import type { RunInfo } from '../../../shared/types';
import type { RunProgress } from '../../../shared/calls/runs';
import { createLab } from '../../core/lab';
import { defaultConfigDir } from '../../core/paths';
import { AppSettings } from '../../core/workspace/app-settings';
import { getRun } from '../../core/store/runs-repo';
import { METHODS, methodNames } from '../../core/methods/registry';
import { UsageError, intOption, requiredString, stringOption, type VerbSpec } from '../verb';

const TERMINAL = new Set(['done', 'failed', 'cancelled']);

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : v.toFixed(4);
}

export const trainVerb: VerbSpec = {
  name: 'train',
  summary: 'train and evaluate a method on one scenario, as a run in the workspace',
  details: [
    'The run executes in its own process and is stored like any run of the app (metrics per defect',
    'type, anomaly maps in runs/<id>/). Ctrl+C cancels it. Without --weights the backbone is randomly',
    'initialised (pretrained weights: `miad-lab weights fetch|import`), and the run says so.',
    '',
    'Example: miad-lab train --workspace ~/MIAD\\ Lab/demo --method patchcore --scenario nut_and_bolt --preset fast',
  ].join('\n'),
  options: {
    workspace: { type: 'string', value: 'W', description: 'the workspace folder', required: true },
    method: { type: 'string', value: 'M', description: `method to train: ${methodNames().join(', ')}`, required: true },
    scenario: { type: 'string', value: 'S', description: 'scenario (category) to train on', required: true },
    dataset: { type: 'string', value: 'ID', description: 'dataset id (default: the only dataset holding the scenario)' },
    preset: { type: 'string', value: 'P', description: `preset: ${METHODS.map((m) => `${m.name}: ${m.presets.map((p) => (p === m.defaultPreset ? `${p} (default)` : p)).join(', ')}`).join('; ')}` },
    backend: { type: 'string', value: 'B', description: `force a backend: ${BACKEND_NAMES.join(', ')} (default: the app's backend setting, else the best available)` },
    weights: { type: 'string', value: 'random|FILE', description: 'backbone weights: a .safetensors file, or random (default)' },
    name: { type: 'string', value: 'NAME', description: 'name of the run' },
  },
  async run({ options }, io) {
    const method = requiredString(options, 'method');
    const definition = METHODS.find((m) => m.name === method);
    if (!definition) throw new UsageError(`unknown method ${JSON.stringify(method)}; trainable now: ${methodNames().join(', ')}`);
    const presets = definition.presets;
    const preset = stringOption(options, 'preset') ?? definition.defaultPreset;
    if (!presets.includes(preset)) throw new UsageError(`--preset for ${method} is one of ${presets.join(', ')}, got ${JSON.stringify(preset)}`);
    const backend = stringOption(options, 'backend');
    if (backend !== undefined && !isBackendName(backend)) throw new UsageError(`--backend is one of ${BACKEND_NAMES.join(', ')}, got ${JSON.stringify(backend)}`);
    const weightsArg = stringOption(options, 'weights') ?? 'random';
    const weightsFile = weightsArg === 'random' ? undefined : resolve(weightsArg);
    const scenario = requiredString(options, 'scenario');
    const datasetArg = options.dataset === undefined ? undefined : intOption(options, 'dataset', 0, 1);

    let lastLine = 0;
    let lastPhase = '';
    let runId = -1;
    let settle: (run: RunInfo) => void = () => undefined;
    const finished = new Promise<RunInfo>((r) => (settle = r));
    const lab = await createLab(resolve(requiredString(options, 'workspace')), {
      jobs: {
        emit: (event, payload) => {
          if (event === 'runs:changed') {
            const run = (payload as { run: RunInfo }).run;
            if (run.id === runId && TERMINAL.has(run.status)) settle(run);
          } else if (event === 'runs:progress' && !io.json) {
            const p = payload as RunProgress;
            if (p.runId !== runId) return;
            const now = Date.now();
            if (p.phase === lastPhase && now - lastLine < 2000 && p.step < p.total) return;
            lastPhase = p.phase;
            lastLine = now;
            const rate = p.imagesPerSec ? `  ${p.imagesPerSec.toFixed(1)} img/s` : '';
            const eta = p.etaSeconds !== undefined ? `  ETA ${Math.round(p.etaSeconds)} s` : '';
            io.err(`  ${p.phase.padEnd(12)} ${String(p.step).padStart(6)} / ${p.total}${rate}${eta}`);
          }
        },
      },
    });
    const onSigint = () => {
      if (runId > 0) void lab.jobs.cancel(runId).catch(() => undefined);
    };
    process.on('SIGINT', onSigint);
    try {
      const datasets = lab.listDatasets().filter((d) => d.scenarios.includes(scenario));
      let datasetId = datasetArg;
      if (datasetId === undefined) {
        if (datasets.length === 0) throw new UsageError(`no dataset in this workspace holds scenario ${JSON.stringify(scenario)}`);
        if (datasets.length > 1) throw new UsageError(`several datasets hold ${scenario} (${datasets.map((d) => `#${d.id} ${d.name}`).join(', ')}): choose one with --dataset`);
        datasetId = datasets[0]!.id;
      }
      const started = await lab.jobs.start({
        kind: method,
        name: stringOption(options, 'name') ?? `${method} ${preset} · ${scenario}`,
        config: { datasetId, scenario, preset, ...(weightsFile ? { weightsFile } : {}) },
        // --backend overrides the app's stored setting (engine:setBackend), as runs:start does.
        backend: backend ?? (await new AppSettings(defaultConfigDir()).forcedBackend()),
      });
      runId = started.id;
      if (!io.json) {
        io.err(`Run #${runId} started: ${method} (${preset}) on ${scenario}`);
        if (!weightsFile) io.err('  Backbone weights: RANDOM (no pretrained weights): the results are not comparable to the paper.');
      }
      const run = await finished;
      await lab.jobs.waitForExit(runId);
      const detail = getRun(lab.store, runId);
      if (!io.json) {
        io.out(`Run #${runId} ${detail.status}${detail.error ? `: ${detail.error}` : ''}  (backend ${detail.backend ?? '—'}, weights ${detail.weights ?? '—'}${detail.randomInit ? ', random init' : ''})`);
        const scopes = [...new Set(detail.metrics.map((m) => m.defectType))];
        if (scopes.length > 0) {
          io.out(['scope'.padEnd(22), 'img AUROC', ' px AUROC', '   AUPRO', ' img F1', '  px F1'].join(' '));
          for (const scope of scopes) {
            const get = (metric: string) => detail.metrics.find((m) => m.defectType === scope && m.metric === metric)?.value;
            io.out([(scope === '' ? 'overall' : `  ${scope}`).padEnd(22), fmt(get('image_auroc')).padStart(9), fmt(get('pixel_auroc')).padStart(9), fmt(get('aupro')).padStart(8), fmt(get('image_f1_max')).padStart(7), fmt(get('pixel_f1_max')).padStart(7)].join(' '));
          }
        }
      }
      if (run.status !== 'done') {
        const error = new Error(`run #${runId} ${run.status}${run.error ? `: ${run.error}` : ''}`);
        throw error;
      }
      return detail;
    } finally {
      process.off('SIGINT', onSigint);
      lab.close();
    }
  },
};
