/**
 * `miad-lab check-train --workspace W --scenario S [--folds K] [--preset P]`: "Check the training
 * set" of a scenario (issue 19): each training image scored by a k-fold PatchCore that never saw
 * it, as a job in its own process; prints the top of the ranking. A thin door: it opens the
 * workspace in a lab host and goes through the contract's calls (`checks:start`, `checks:ranking`),
 * as the app and the server do; Ctrl+C cancels the check (`runs:cancel`), which then stores nothing.
 */
import { resolve } from 'node:path';
import type { RunInfo } from '../../../shared/types';
import { openCliHost } from '../host';
import { UsageError, intOption, requiredString, stringOption, type VerbSpec } from '../verb';
import { parseOverrides } from './train';

const TERMINAL = new Set(['done', 'failed', 'cancelled']);

export const checkTrainVerb: VerbSpec = {
  name: 'check-train',
  summary: "check a scenario's training set for suspicious (defective) images: k-fold PatchCore scores, top of the ranking",
  details: [
    'Each training image (as the workspace curates it: flagged ones are left out) is scored by a',
    'PatchCore memory bank built from the other folds, so no image is scored by a model that saw it;',
    'backbone features are extracted once for all folds (the frozen-feature cache). The newest check',
    "of a scenario is the one the app shows (the Library's suspicion facet and review queue).",
    'Without --weights the backbone is randomly initialised, and the check is a demonstration only.',
    '',
    'Examples:',
    '  miad-lab check-train --workspace ~/MIAD\\ Lab/demo --scenario nut_and_bolt --preset fast',
    '  miad-lab check-train --workspace W --scenario metal_welding --folds 10 --top 50 --weights wrn50.safetensors',
  ].join('\n'),
  options: {
    workspace: { type: 'string', value: 'W', description: 'the workspace folder', required: true },
    scenario: { type: 'string', value: 'S', description: 'the scenario whose training images to check', required: true },
    folds: { type: 'string', value: 'K', description: 'folds (default 5; at least 2, at most the number of training images)' },
    preset: { type: 'string', value: 'P', description: "PatchCore's preset: full (default), paper, fast" },
    set: { type: 'string', value: 'KEY=VALUE', description: 'override one preset value (repeatable), e.g. --set inputSize=128', multiple: true },
    dataset: { type: 'string', value: 'ID', description: 'dataset id (default: the only dataset holding the scenario)' },
    weights: { type: 'string', value: 'random|FILE', description: 'backbone weights: a .safetensors file, or random (default)' },
    seed: { type: 'string', value: 'N', description: 'seed of the fold split (default 0)' },
    top: { type: 'string', value: 'N', description: 'how many of the top to print (default 20)' },
  },
  async run({ options }, io) {
    const ws = resolve(requiredString(options, 'workspace'));
    const scenario = requiredString(options, 'scenario');
    const folds = intOption(options, 'folds', 5, 2, 100);
    const top = intOption(options, 'top', 20, 1, 1_000_000);
    const datasetId = options.dataset === undefined ? undefined : intOption(options, 'dataset', 0, 1);
    const seed = options.seed === undefined ? undefined : intOption(options, 'seed', 0, 0, 2 ** 31 - 1);
    const preset = stringOption(options, 'preset');
    const overrides = parseOverrides(options);
    const weightsArg = stringOption(options, 'weights') ?? 'random';
    let runId = -1;
    let settle: (run: RunInfo) => void = () => undefined;
    const ended = new Promise<RunInfo>((r) => (settle = r));
    let lastLine = 0;
    let lastPhase = '';
    // A one-off command: it must not adopt (and then kill) jobs another process left in the workspace.
    const host = openCliHost();
    host.on('runs:changed', ({ run }) => {
      if (run.id === runId && TERMINAL.has(run.status)) settle(run);
    });
    host.on('runs:progress', (p) => {
      if (!io.json) {
        if (p.runId !== runId) return;
        const now = Date.now();
        if (p.phase === lastPhase && now - lastLine < 2000 && p.step < p.total) return;
        lastPhase = p.phase;
        lastLine = now;
        io.err(`  ${p.phase.padEnd(28)} ${String(p.step).padStart(6)} / ${p.total}${p.imagesPerSec ? `  ${p.imagesPerSec.toFixed(1)} img/s` : ''}`);
      }
    });
    const onSigint = () => {
      if (runId > 0) void host.call('runs:cancel', { runId }).catch(() => undefined);
    };
    process.on('SIGINT', onSigint);
    try {
      const { state } = await host.call('workspaces:inspect', { dir: ws });
      if (state !== 'workspace') throw new UsageError(`--workspace ${ws} holds no MIAD Lab workspace (no lab.sqlite)`);
      await host.call('workspaces:open', { dir: ws });
      const started = (await host
        .call('checks:start', {
          scenario,
          folds,
          ...(datasetId !== undefined ? { datasetId } : {}),
          ...(preset !== undefined ? { preset } : {}),
          ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
          ...(weightsArg !== 'random' ? { weightsFile: resolve(weightsArg) } : {}),
          ...(seed !== undefined ? { seed } : {}),
        })
        .catch((error: unknown) => {
          // What the caller asked for is wrong (scenario, folds, preset, an empty training set): bad usage.
          if (error instanceof Error && (error.name === 'ValidationError' || error.name === 'NotFoundError')) throw new UsageError(error.message);
          throw error;
        })) as RunInfo;
      runId = started.id;
      if (!io.json) io.err(`Check #${runId} started: ${started.name}${started.randomInit ? ' (random backbone: a demonstration, not pretrained features)' : ''}`);
      const run = await ended;
      if (run.status !== 'done') throw new Error(`check #${runId} ${run.status}${run.error ? `: ${run.error}` : ''}`);
      const ranking = await host.call('checks:ranking', { runId, top });
      if (!io.json) {
        const c = ranking.check;
        io.out(`Check #${c.runId} of ${c.scenario}: ${c.images} training images, ${c.folds} folds, ${c.method} (${c.preset}, ${c.backbone ?? 'no backbone'}, weights ${c.weights ?? 'none'})`);
        io.out(`Top ${ranking.items.length} (highest score first):`);
        for (const item of ranking.items) io.out(`  ${String(item.rank + 1).padStart(4)}  ${item.score.toPrecision(5).padStart(10)}  #${item.sampleId}  ${item.relPath}`);
      }
      return ranking;
    } finally {
      process.off('SIGINT', onSigint);
      await host.close();
    }
  },
};
