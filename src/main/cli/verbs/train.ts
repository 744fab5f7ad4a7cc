/**
 * `miad-lab train`: trains and evaluates a method on one scenario of a workspace's dataset, as a
 * run in its own job process (the same path the app takes), printing the estimated cost first,
 * then progress (with the loss of trained methods) and the metrics. `--resume RUN` continues a
 * cancelled or failed run from its latest checkpoint; `--dry-run` prints the estimate only.
 */
import { resolve } from 'node:path';
import { BACKEND_NAMES, isBackendName } from '../../../shared/backends';
import type { RunInfo } from '../../../shared/types';
import type { RunProgress, TrainingEstimate } from '../../../shared/calls/runs';
import { createLab, type Lab } from '../../core/lab';
import { defaultConfigDir } from '../../core/paths';
import { AppSettings } from '../../core/workspace/app-settings';
import { getRun } from '../../core/store/runs-repo';
import { METHODS, methodNames } from '../../core/methods/registry';
import { describeEstimate, estimateTraining } from '../../core/runs/estimate';
import { UsageError, intOption, requiredString, stringOption, type ParsedOptions, type VerbSpec } from '../verb';

const TERMINAL = new Set(['done', 'failed', 'cancelled']);

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : v.toFixed(4);
}

/**
 * `--set key=value` pairs as preset overrides: the value is read as JSON when it parses (numbers,
 * true/false, arrays such as ["layer2","layer3"]), else as a string (tanh, all). The method's own
 * schema validates them before any run exists.
 */
export function parseOverrides(options: ParsedOptions): Record<string, unknown> {
  const raw = options['set'];
  const items = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  const out: Record<string, unknown> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) throw new UsageError(`--set expects key=value, got ${JSON.stringify(item)}`);
    const key = item.slice(0, eq).trim();
    const text = item.slice(eq + 1).trim();
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // a bare word: keep the string
    }
    out[key] = value;
  }
  return out;
}

/** The backend a run without --backend will take: the app's forced setting, else the best available here. */
async function chosenBackend(explicit: string | undefined): Promise<{ forced: string | undefined; forEstimate: string | null }> {
  const forced = explicit ?? (await new AppSettings(defaultConfigDir()).forcedBackend());
  if (forced) return { forced, forEstimate: forced };
  const { listBackends } = await import('../../core/engine/backends');
  return { forced: undefined, forEstimate: (await listBackends()).find((b) => b.available)?.name ?? null };
}

export const trainVerb: VerbSpec = {
  name: 'train',
  summary: 'train and evaluate a method on one scenario (or, unified, several), as a run in the workspace',
  details: [
    'The run executes in its own process and is stored like any run of the app (metrics per defect',
    'type, anomaly maps, the loss curve and the trained weights in runs/<id>/). Before it starts, the',
    'estimated training time is printed (training FLOPs ÷ the speed this workspace measured on the',
    'backend). Ctrl+C cancels it; a trained method checkpoints first, and --resume RUN continues it.',
    'Without --weights a backbone is randomly initialised (pretrained weights: `miad-lab weights',
    'fetch|import`), and the run says so. --set overrides one preset value (repeatable), checked',
    "against the method's schema.",
    '',
    'Examples:',
    '  miad-lab train --workspace ~/MIAD\\ Lab/demo --method patchcore --scenario nut_and_bolt --preset fast',
    '  miad-lab train --workspace W --method autoencoder --scenario nut_and_bolt --preset fast --set epochs=20',
    '  miad-lab train --workspace W --method autoencoder --scenario nut_and_bolt --preset paper --dry-run',
    '  miad-lab train --workspace W --method uniad --scenarios nut_and_bolt,wind_turbine,witness_mark --preset fast',
    '  miad-lab train --workspace W --resume 7',
  ].join('\n'),
  options: {
    workspace: { type: 'string', value: 'W', description: 'the workspace folder', required: true },
    method: { type: 'string', value: 'M', description: `method to train: ${methodNames().join(', ')}` },
    scenario: { type: 'string', value: 'S', description: 'scenario (category) to train on' },
    scenarios: {
      type: 'string',
      value: 'A,B,…|all',
      description: `a unified run: one model over these scenarios (comma-separated, or all of the dataset's), evaluated per scenario; methods: ${METHODS.filter((m) => m.unified)
        .map((m) => m.name)
        .join(', ')}`,
    },
    dataset: { type: 'string', value: 'ID', description: 'dataset id (default: the only dataset holding the scenario)' },
    preset: { type: 'string', value: 'P', description: `preset: ${METHODS.map((m) => `${m.name}: ${m.presets.map((p) => (p === m.defaultPreset ? `${p} (default)` : p)).join(', ')}`).join('; ')}` },
    set: { type: 'string', value: 'KEY=VALUE', description: 'override one preset value (repeatable), e.g. --set epochs=20', multiple: true },
    backend: { type: 'string', value: 'B', description: `force a backend: ${BACKEND_NAMES.join(', ')} (default: the app's backend setting, else the best available)` },
    weights: { type: 'string', value: 'random|FILE', description: 'backbone weights: a .safetensors file, or random (default); methods without a backbone take none' },
    name: { type: 'string', value: 'NAME', description: 'name of the run' },
    'dry-run': { type: 'boolean', description: 'print the estimated cost and exit without starting a run' },
    resume: { type: 'string', value: 'RUN', description: 'continue a cancelled or failed run from its latest checkpoint (no other run option)' },
  },
  async run({ options }, io) {
    const resumeId = options.resume === undefined ? undefined : intOption(options, 'resume', 0, 1);
    const backend = stringOption(options, 'backend');
    if (backend !== undefined && !isBackendName(backend)) throw new UsageError(`--backend is one of ${BACKEND_NAMES.join(', ')}, got ${JSON.stringify(backend)}`);
    if (resumeId !== undefined) {
      const extra = ['method', 'scenario', 'scenarios', 'dataset', 'preset', 'set', 'weights', 'name', 'dry-run', 'backend'].filter((k) => options[k] !== undefined);
      if (extra.length) throw new UsageError(`--resume continues a run as it was started: leave out ${extra.map((k) => `--${k}`).join(', ')}`);
    }

    let method = '';
    let preset = '';
    let overrides: Record<string, unknown> = {};
    let scenario = '';
    /** --scenarios as given (names, or ['all']); empty: a run of --scenario. */
    let scenarioList: string[] = [];
    if (resumeId === undefined) {
      method = requiredString(options, 'method');
      const definition = METHODS.find((m) => m.name === method);
      if (!definition) throw new UsageError(`unknown method ${JSON.stringify(method)}; trainable now: ${methodNames().join(', ')}`);
      preset = stringOption(options, 'preset') ?? definition.defaultPreset;
      if (!definition.presets.includes(preset)) throw new UsageError(`--preset for ${method} is one of ${definition.presets.join(', ')}, got ${JSON.stringify(preset)}`);
      overrides = parseOverrides(options);
      try {
        definition.resolveConfig(preset, overrides);
      } catch (error) {
        throw new UsageError(`--set: ${error instanceof Error ? error.message : String(error)}`);
      }
      const listed = stringOption(options, 'scenarios');
      if (listed !== undefined) {
        if (options.scenario !== undefined) throw new UsageError('give --scenario (one scenario) or --scenarios (a unified run), not both');
        if (!definition.unified) {
          throw new UsageError(`${definition.title} trains one scenario per run: --scenarios is for methods that train one model over several (${METHODS.filter((m) => m.unified).map((m) => m.name).join(', ')}); use --scenario`);
        }
        scenarioList = listed
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
        if (scenarioList.length === 0) throw new UsageError('--scenarios expects comma-separated scenario names, or all');
        const twice = scenarioList.filter((s, i) => scenarioList.indexOf(s) !== i);
        if (twice.length > 0) throw new UsageError(`--scenarios names ${twice[0]} twice`);
        if (scenarioList.includes('all') && scenarioList.length > 1) throw new UsageError('--scenarios all stands alone');
      } else scenario = requiredString(options, 'scenario');
      if (definition.backboneArch(definition.resolveConfig(preset, overrides).config) === null && options.weights !== undefined && options.weights !== 'random') {
        throw new UsageError(`${definition.title} trains from scratch and reads no backbone weights: leave out --weights`);
      }
    }
    const weightsArg = stringOption(options, 'weights') ?? 'random';
    const weightsFile = weightsArg === 'random' ? undefined : resolve(weightsArg);
    const datasetArg = options.dataset === undefined ? undefined : intOption(options, 'dataset', 0, 1);

    let lastLine = 0;
    let lastPhase = '';
    let runId = -1;
    let settle: (run: RunInfo) => void = () => undefined;
    const finished = new Promise<RunInfo>((r) => (settle = r));
    const lab: Lab = await createLab(resolve(requiredString(options, 'workspace')), {
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
            const loss = p.loss !== undefined ? `  loss ${p.loss.toPrecision(4)}` : '';
            const rate = p.imagesPerSec ? `  ${p.imagesPerSec.toFixed(1)} img/s` : '';
            const eta = p.etaSeconds !== undefined ? `  ETA ${Math.round(p.etaSeconds)} s` : '';
            const note = p.message ? `  ${p.message}` : '';
            io.err(`  ${p.phase.padEnd(12)} ${String(p.step).padStart(6)} / ${p.total}${loss}${rate}${eta}${note}`);
          }
        },
      },
    });
    let cancelled = false;
    const onSigint = () => {
      cancelled = true;
      if (runId > 0) void lab.jobs.cancel(runId).catch(() => undefined);
    };
    process.on('SIGINT', onSigint);
    try {
      let estimate: (TrainingEstimate & { text: string }) | null = null;
      let started: RunInfo;
      if (resumeId !== undefined) {
        started = await lab.jobs.resume(resumeId).catch((error: unknown) => {
          throw new UsageError(error instanceof Error ? error.message : String(error));
        });
        runId = started.id;
        if (!io.json) io.err(`Run #${runId} resumed from its latest checkpoint: ${started.name}`);
      } else {
        const all = lab.listDatasets();
        const wanted = scenarioList.length > 0 ? scenarioList : [scenario];
        const all7 = wanted.length === 1 && wanted[0] === 'all';
        const datasets = all7 ? all : all.filter((d) => wanted.every((s) => d.scenarios.includes(s)));
        let datasetId = datasetArg;
        const label = all7 ? 'all scenarios' : wanted.join(', ');
        if (datasetId === undefined) {
          if (datasets.length === 0) {
            const missing = wanted.filter((s) => !all.some((d) => d.scenarios.includes(s)));
            throw new UsageError(
              missing.length > 0
                ? `no dataset in this workspace holds scenario ${missing.map((s) => JSON.stringify(s)).join(', ')}`
                : `no one dataset holds all of ${label}: a unified run reads one dataset (datasets: ${all.map((d) => `#${d.id} ${d.name}: ${d.scenarios.join(', ')}`).join('; ')})`,
            );
          }
          if (datasets.length > 1) throw new UsageError(`several datasets hold ${label} (${datasets.map((d) => `#${d.id} ${d.name}`).join(', ')}): choose one with --dataset`);
          datasetId = datasets[0]!.id;
        }
        const chosenDataset = all.find((d) => d.id === datasetId);
        const runScenarios = all7 ? (chosenDataset?.scenarios ?? []) : wanted;
        if (all7 && runScenarios.length === 0) throw new UsageError(`dataset #${datasetId} has no scenarios`);
        if (scenarioList.length > 0) scenario = runScenarios.join(', ');
        const { forced, forEstimate } = await chosenBackend(backend);
        if (forEstimate) {
          const per = runScenarios.map((s) => lab.store.listSamples({ datasetId: datasetId!, scenario: s, split: 'train', offset: 0, limit: 1 }).total);
          const available = per.reduce((a, n) => a + n, 0);
          const e = await estimateTraining(lab.store, (id) => lab.jobs.runDir(id), { method, preset, overrides, availableImages: available, scenarioImages: per, backend: forEstimate });
          estimate = { ...e, text: describeEstimate(e) };
          if (!io.json) io.err(`Estimated: ${estimate.text}`);
        }
        if (options['dry-run'] === true) return { estimate, run: null };
        started = await lab.jobs.start({
          kind: method,
          name: stringOption(options, 'name') ?? `${method} ${preset} · ${scenario}`,
          config: {
            datasetId,
            ...(scenarioList.length > 0 ? { scenarios: runScenarios } : { scenario }),
            preset,
            ...(Object.keys(overrides).length ? { overrides } : {}),
            ...(weightsFile ? { weightsFile } : {}),
          },
          // --backend overrides the app's stored setting (engine:setBackend), as runs:start does.
          backend: forced,
        });
        runId = started.id;
        if (!io.json) {
          io.err(`Run #${runId} started: ${method} (${preset}) on ${scenario}`);
          if (started.randomInit) io.err('  Backbone weights: RANDOM (no pretrained weights): the results are not comparable to the paper.');
        }
      }
      if (cancelled) void lab.jobs.cancel(runId).catch(() => undefined);
      const run = await finished;
      await lab.jobs.waitForExit(runId);
      const detail = getRun(lab.store, runId);
      if (!io.json) {
        io.out(`Run #${runId} ${detail.status}${detail.error ? `: ${detail.error}` : ''}  (backend ${detail.backend ?? '—'}, weights ${detail.weights ?? 'none'}${detail.randomInit ? ', random init' : ''})`);
        if (detail.status === 'cancelled') io.out(`  continue it with: miad-lab train --workspace ${resolve(requiredString(options, 'workspace'))} --resume ${runId}`);
        // Per scenario (a unified run has several), each with its overall row and its defect types.
        const metricScenarios = [...new Set(detail.metrics.map((m) => m.scenario))];
        if (metricScenarios.length > 0) io.out(['scope'.padEnd(22), 'img AUROC', ' px AUROC', '   AUPRO', ' img F1', '  px F1'].join(' '));
        for (const sc of metricScenarios) {
          if (metricScenarios.length > 1) io.out(sc);
          const mine = detail.metrics.filter((m) => m.scenario === sc);
          for (const scope of [...new Set(mine.map((m) => m.defectType))]) {
            const get = (metric: string) => mine.find((m) => m.defectType === scope && m.metric === metric)?.value;
            io.out([(scope === '' ? 'overall' : `  ${scope}`).padEnd(22), fmt(get('image_auroc')).padStart(9), fmt(get('pixel_auroc')).padStart(9), fmt(get('aupro')).padStart(8), fmt(get('image_f1_max')).padStart(7), fmt(get('pixel_f1_max')).padStart(7)].join(' '));
          }
        }
      }
      if (run.status !== 'done') throw new Error(`run #${runId} ${run.status}${run.error ? `: ${run.error}` : ''}`);
      return estimate ? { ...detail, estimate } : detail;
    } finally {
      process.off('SIGINT', onSigint);
      lab.close();
    }
  },
};
