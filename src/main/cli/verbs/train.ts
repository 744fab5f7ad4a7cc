/**
 * `miad-lab train`: trains and evaluates a method on one scenario of a workspace's dataset, as a
 * run in its own job process (the same path the app takes), printing the estimated cost first,
 * then progress (with the loss of trained methods) and the metrics. `--resume RUN` continues a
 * cancelled or failed run from its latest checkpoint; `--dry-run` prints the estimate only.
 */
import { resolve } from 'node:path';
import { BACKEND_NAMES, isBackendName } from '../../../shared/backends';
import type { CallResult } from '../../../shared/contract';
import type { MethodInfo, RunProgress, TrainingEstimate } from '../../../shared/calls/runs';
import { withHost, withWorkspace } from '../host';
import { UsageError, intOption, requiredString, stringOption, type ParsedOptions, type VerbSpec } from '../verb';

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

/** The methods `runs:methods` lists: the option help and the checks below derive from them. */
function unifiedNames(methods: readonly MethodInfo[]): string {
  return methods.filter((m) => m.unified).map((m) => m.name).join(', ');
}

/** The option descriptions that name the methods and their presets. */
function methodHelp(methods: readonly MethodInfo[]): Record<string, string> {
  return {
    method: `method to train: ${methods.map((m) => m.name).join(', ')}`,
    scenarios: `a unified run: one model over these scenarios (comma-separated, or all of the dataset's), evaluated per scenario; methods: ${unifiedNames(methods)}`,
    preset: `preset: ${methods.map((m) => `${m.name}: ${m.presets.map((p) => (p === m.defaultPreset ? `${p} (default)` : p)).join(', ')}`).join('; ')}`,
  };
}

/** The name of a run started without --name; a unified run over many scenarios counts them instead (a name has 200 characters at most). */
function defaultRunName(method: string, preset: string, scenarios: readonly string[]): string {
  const full = `${method} ${preset} · ${scenarios.join(', ')}`;
  return full.length <= 200 ? full : `${method} ${preset} · ${scenarios.length} scenarios`;
}

/** A contract error as bad usage (exit 2) with the CLI's words in front; other failures pass through. */
function asUsage(prefix: string): (error: unknown) => never {
  return (error: unknown) => {
    if (error instanceof Error && (error.name === 'ValidationError' || error.name === 'NotFoundError' || error.name === 'ConflictError')) {
      throw new UsageError(`${prefix}${error.message}`);
    }
    throw error;
  };
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
    method: { type: 'string', value: 'M', description: 'method to train (the list: miad-lab train --help)' },
    scenario: { type: 'string', value: 'S', description: 'scenario (category) to train on' },
    scenarios: { type: 'string', value: 'A,B,…|all', description: "a unified run: one model over these scenarios (comma-separated, or all of the dataset's), evaluated per scenario" },
    dataset: { type: 'string', value: 'ID', description: 'dataset id (default: the only dataset holding the scenario)' },
    preset: { type: 'string', value: 'P', description: "the method's preset (default: the method's default)" },
    set: { type: 'string', value: 'KEY=VALUE', description: 'override one preset value, e.g. --set epochs=20', multiple: true },
    backend: { type: 'string', value: 'B', description: `force a backend: ${BACKEND_NAMES.join(', ')} (default: the app's backend setting, else the best available)` },
    weights: { type: 'string', value: 'random|FILE', description: 'backbone weights: a .safetensors file, or random (default); methods without a backbone take none' },
    name: { type: 'string', value: 'NAME', description: 'name of the run' },
    'dry-run': { type: 'boolean', description: 'print the estimated cost and exit without starting a run' },
    resume: { type: 'string', value: 'RUN', description: 'continue a cancelled or failed run from its latest checkpoint (no other run option)' },
  },
  async describe() {
    return { options: methodHelp(await withHost((host) => host.call('runs:methods', {}))) };
  },
  async run({ options }, io) {
    const resumeId = options.resume === undefined ? undefined : intOption(options, 'resume', 0, 1);
    const backend = stringOption(options, 'backend');
    if (backend !== undefined && !isBackendName(backend)) throw new UsageError(`--backend is one of ${BACKEND_NAMES.join(', ')}, got ${JSON.stringify(backend)}`);
    if (resumeId !== undefined) {
      const extra = ['method', 'scenario', 'scenarios', 'dataset', 'preset', 'set', 'weights', 'name', 'dry-run', 'backend'].filter((k) => options[k] !== undefined);
      if (extra.length) throw new UsageError(`--resume continues a run as it was started: leave out ${extra.map((k) => `--${k}`).join(', ')}`);
    }
    const workspace = resolve(requiredString(options, 'workspace'));

    let method = '';
    let preset = '';
    let overrides: Record<string, unknown> = {};
    let scenario = '';
    /** --scenarios as given (names, or ['all']); empty: a run of --scenario. */
    let scenarioList: string[] = [];
    if (resumeId === undefined) {
      // What the method accepts is the contract's to say: the same calls the launch form makes.
      const checked = await withHost(async (host) => {
        const methods = await host.call('runs:methods', {});
        const name = requiredString(options, 'method');
        const definition = methods.find((m) => m.name === name);
        if (!definition) throw new UsageError(`unknown method ${JSON.stringify(name)}; trainable now: ${methods.map((m) => m.name).join(', ')}`);
        const chosen = stringOption(options, 'preset') ?? definition.defaultPreset;
        if (!definition.presets.includes(chosen)) throw new UsageError(`--preset for ${name} is one of ${definition.presets.join(', ')}, got ${JSON.stringify(chosen)}`);
        const sets = parseOverrides(options);
        const resolved = await host.call('runs:resolveConfig', { method: name, preset: chosen, overrides: sets }).catch(asUsage('--set: '));
        return { definition, methods, preset: chosen, overrides: sets, backbone: resolved.backbone };
      });
      const { definition } = checked;
      method = definition.name;
      preset = checked.preset;
      overrides = checked.overrides;
      const listed = stringOption(options, 'scenarios');
      if (listed !== undefined) {
        if (options.scenario !== undefined) throw new UsageError('give --scenario (one scenario) or --scenarios (a unified run), not both');
        if (!definition.unified) {
          throw new UsageError(`${definition.title} trains one scenario per run: --scenarios is for methods that train one model over several (${unifiedNames(checked.methods)}); use --scenario`);
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
      if (checked.backbone === null && options.weights !== undefined && options.weights !== 'random') {
        throw new UsageError(`${definition.title} trains from scratch and reads no backbone weights: leave out --weights`);
      }
    }
    const weightsArg = stringOption(options, 'weights') ?? 'random';
    const weightsFile = weightsArg === 'random' ? undefined : resolve(weightsArg);
    const datasetArg = options.dataset === undefined ? undefined : intOption(options, 'dataset', 0, 1);
    const name = stringOption(options, 'name');

    return withWorkspace(workspace, async (host) => {
      let lastLine = 0;
      let lastPhase = '';
      let runId = -1;
      const stopProgress = io.json
        ? () => undefined
        : host.on('runs:progress', (p: RunProgress) => {
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
          });
      let cancelled = false;
      const cancel = () => void host.call('runs:cancel', { runId }).catch(() => undefined);
      const onSigint = () => {
        cancelled = true;
        if (runId > 0) cancel();
      };
      process.on('SIGINT', onSigint);
      try {
        let estimate: (TrainingEstimate & { text: string }) | null = null;
        let started: CallResult<'runs:start'>;
        if (resumeId !== undefined) {
          started = await host.call('runs:resume', { runId: resumeId }).catch(asUsage(''));
          runId = started.id;
          if (!io.json) io.err(`Run #${runId} resumed from its latest checkpoint: ${started.name}`);
        } else {
          const all = await host.call('datasets:list', {});
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
          const backendInput = backend;
          // The backend the estimate is for: --backend, else the app's forced setting, else the best here (runs:estimate's rule).
          estimate = await host
            .call('runs:estimate', {
              method,
              preset,
              ...(Object.keys(overrides).length ? { overrides } : {}),
              datasetId,
              scenario: runScenarios[0]!,
              ...(scenarioList.length > 0 ? { scenarios: runScenarios } : {}),
              ...(backendInput ? { backend: backendInput } : {}),
            })
            .catch((error: unknown) => {
              // No backend to estimate for: the run itself says why it cannot start.
              if (error instanceof Error && error.name === 'ConflictError') return null;
              throw error;
            });
          if (estimate && !io.json) io.err(`Estimated: ${estimate.text}`);
          if (options['dry-run'] === true) return { estimate, run: null };
          // --backend overrides the app's stored setting (engine:setBackend); without it runs:start applies that setting.
          started = await host.call('runs:start', {
            kind: method,
            name: name ?? defaultRunName(method, preset, runScenarios),
            config: {
              datasetId,
              ...(scenarioList.length > 0 ? { scenarios: runScenarios } : { scenario }),
              preset,
              ...(Object.keys(overrides).length ? { overrides } : {}),
              ...(weightsFile ? { weightsFile } : {}),
            },
            ...(backendInput ? { backend: backendInput } : {}),
          });
          runId = started.id;
          if (!io.json) {
            io.err(`Run #${runId} started: ${method} (${preset}) on ${scenario}`);
            if (started.randomInit) io.err('  Backbone weights: RANDOM (no pretrained weights): the results are not comparable to the paper.');
          }
        }
        if (cancelled) cancel();
        const detail = await host.call('runs:wait', { runId });
        if (!io.json) {
          io.out(`Run #${runId} ${detail.status}${detail.error ? `: ${detail.error}` : ''}  (backend ${detail.backend ?? '—'}, weights ${detail.weights ?? 'none'}${detail.randomInit ? ', random init' : ''})`);
          if (detail.status === 'cancelled') io.out(`  continue it with: miad-lab train --workspace ${workspace} --resume ${runId}`);
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
        if (detail.status !== 'done') throw new Error(`run #${runId} ${detail.status}${detail.error ? `: ${detail.error}` : ''}`);
        return estimate ? { ...detail, estimate } : detail;
      } finally {
        process.off('SIGINT', onSigint);
        stopProgress();
      }
    });
  },
};
