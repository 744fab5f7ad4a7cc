// FastFlow refuses bad input with messages that say what is wrong and what to do: backbone weights of
// another architecture (or FastFlow flows passed as backbone weights), flow weights of another method or of
// another backbone and size, a NaN log-determinant (the run stops naming the step), a training checkpoint
// of another method at resume. Nothing here trains more than a step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/main/core/engine/backends';
import { randomWeights } from '../../src/main/core/engine/backbones/index';
import { writeSafetensors } from '../../src/main/core/engine/safetensors';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import type { JobContext } from '../../src/main/core/jobs/kinds';
import { resumingFromCheckpointOf } from '../jobs/helpers';
import { resolveFastflowConfig } from '../../src/main/core/methods/fastflow/config';
import { fastflowMethod } from '../../src/main/core/methods/fastflow/method';
import { buildFastFlow } from '../../src/main/core/methods/fastflow/model';
import { runMethod } from '../../src/main/core/methods/harness/run-method';
import { resolveRdConfig } from '../../src/main/core/methods/reverse-distillation/config';
import { buildReverseDistillation } from '../../src/main/core/methods/reverse-distillation/model';

let dir = '';
let data = '';
const quiet = { progress: () => undefined };
/** One step at 32 px: what these tests need to reach the point they test. */
const TINY = { inputSize: 32, trainImages: 4, batchSize: 4, epochs: 1 };

beforeAll(async () => {
  await initBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'fastflow-bad-'));
  data = join(dir, 'data');
  await generateMiadMini({ outDir: data, scenarios: ['nut_and_bolt'], train: 4, test: 4, size: 64, seed: 2 });
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const run = (preset: string, overrides: Record<string, unknown>, weights: string = 'random', job?: JobContext) =>
  runMethod(fastflowMethod, { datasetRoot: data, scenario: 'nut_and_bolt', preset, overrides, weights, outDir: job?.runDir ?? join(dir, `out-${Math.random().toString(36).slice(2)}`) }, { ...quiet, ...(job ? { job } : {}) });

describe('FastFlow bad input', () => {
  it('refuses backbone weights of another architecture, saying which they are and which preset takes them', async () => {
    // (Only the header is read before the refusal. The other direction, WideResNet50-2 weights into the fast
    // preset, is the same check; writing 276 MB of random WideResNet50-2 weights is not worth its CI time.)
    const r18 = join(dir, 'r18.safetensors');
    await writeSafetensors(r18, randomWeights('resnet18', 1));
    await expect(run('paper', TINY, r18)).rejects.toThrow(/do not fit wide_resnet50_2, the backbone of preset paper: .*The file holds resnet18 weights: choose the fast preset or set backbone=resnet18\./);
  });

  it('refuses FastFlow flows passed as backbone weights, and flows of another backbone or size', async () => {
    const flows = buildFastFlow(resolveFastflowConfig('fast', TINY).config);
    const path = join(dir, 'flows32.safetensors');
    await writeSafetensors(path, flows.stateDict(), { method: 'fastflow' });
    flows.dispose();
    await expect(run('fast', TINY, path)).rejects.toThrow(/do not fit resnet18.*It holds FastFlow flows \(norms\.\*, nf_flows\.\*\), not backbone weights: pass it as flowWeights\./);
    await expect(run('fast', { ...TINY, inputSize: 64, flowWeights: path })).rejects.toThrow(
      /flowWeights .*flows32\.safetensors holds FastFlow flows for resnet18 at 32 px, but this run \(preset fast\) builds them for resnet18 at 64 px: set backbone=resnet18 and inputSize=32/,
    );
  });

  it('refuses flow weights of another method, naming the method that wrote them', async () => {
    const rd = buildReverseDistillation(resolveRdConfig('fast', { inputSize: 32 }).config);
    const path = join(dir, 'rd.safetensors');
    await writeSafetensors(path, rd.stateDict(), { method: 'reverse_distillation', preset: 'fast' });
    rd.dispose();
    await expect(run('fast', { ...TINY, flowWeights: path })).rejects.toThrow(/flowWeights .*rd\.safetensors is not a FastFlow checkpoint: it has no norms\.\*, nf_flows\.\* tensors; it was written by method reverse_distillation/);
    await expect(run('fast', { ...TINY, flowWeights: join(dir, 'missing.safetensors') })).rejects.toThrow(/flowWeights: cannot read .*missing\.safetensors/);
  });

  it('stops a run whose log-determinant is NaN, naming the step', async () => {
    const model = buildFastFlow(resolveFastflowConfig('fast', TINY).config);
    const sd = model.stateDict();
    model.dispose();
    // A global scale of NaN: γ = 0.1·softplus(NaN), log γ = NaN in that block's log-determinant.
    const g = sd.get('nf_flows.1.module_list.4.global_scale')!;
    (g.data as Float32Array)[3] = Number.NaN;
    const path = join(dir, 'nan.safetensors');
    await writeSafetensors(path, sd, { method: 'fastflow' });
    await expect(run('fast', { ...TINY, flowWeights: path })).rejects.toThrow(/training diverged: the loss is NaN at step 1 of 1 \(epoch 1, batch 1\); the run stops here/);
  });

  it('refuses to resume from a training checkpoint of another method', async () => {
    const job = resumingFromCheckpointOf('reverse_distillation', dir, join(dir, 'resume'));
    await expect(run('fast', TINY, 'random', job)).rejects.toThrow(/cannot resume: its checkpoint was written by method "reverse_distillation", this run trains fastflow/);
  });
});
