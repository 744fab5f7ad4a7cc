// Reverse Distillation refuses bad input with messages that say what is wrong and what to do: teacher
// weights of another architecture (or a student checkpoint passed as teacher), student weights of the
// other variant or of another method, a training checkpoint of another method at resume, a scenario
// without training images. Nothing here trains more than a step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/main/core/engine/backends';
import { randomWeights } from '../../src/main/core/engine/backbones/index';
import { writeSafetensors, type TensorToWrite } from '../../src/main/core/engine/safetensors';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { resumingFromCheckpointOf } from '../jobs/helpers';
import { resolveAutoencoderConfig } from '../../src/main/core/methods/autoencoder/config';
import { buildAutoencoder } from '../../src/main/core/methods/autoencoder/model';
import { runMethod } from '../../src/main/core/methods/harness/run-method';
import { resolveRdConfig } from '../../src/main/core/methods/reverse-distillation/config';
import { reverseDistillationMethod } from '../../src/main/core/methods/reverse-distillation/method';
import { buildReverseDistillation } from '../../src/main/core/methods/reverse-distillation/model';

let dir = '';
let data = '';
const quiet = { progress: () => undefined };
/** One step of the ResNet18 pairing at 32 px: what these tests need to reach the point they test. */
const TINY = { inputSize: 32, trainImages: 4, batchSize: 4, epochs: 1 };

beforeAll(async () => {
  await initBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'rd-bad-'));
  data = join(dir, 'data');
  await generateMiadMini({ outDir: data, scenarios: ['nut_and_bolt', 'wind_turbine'], train: 4, test: 4, size: 64, seed: 2 });
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const run = (preset: string, overrides: Record<string, unknown>, weights: string = 'random', scenario = 'nut_and_bolt') =>
  runMethod(reverseDistillationMethod, { datasetRoot: data, scenario, preset, overrides, weights, outDir: join(dir, `out-${Math.random().toString(36).slice(2)}`) }, quiet);

describe('Reverse Distillation bad input', () => {
  it('refuses teacher weights of another architecture, saying which one they are and which preset takes them', async () => {
    const path = join(dir, 'resnet18.safetensors');
    await writeSafetensors(path, randomWeights('resnet18', 1));
    await expect(run('official', TINY, path)).rejects.toThrow(
      /teacher weights .*resnet18\.safetensors do not fit wide_resnet50_2, the teacher of preset official: tensor '.*' .*\. The file holds resnet18 weights: choose a preset with that teacher \(fast\) or set backbone=resnet18\./,
    );
    const wide = join(dir, 'wrn.safetensors');
    // Only its header is read before the refusal: a file of the right names and shapes is what matters.
    await writeSafetensors(wide, randomWeights('wide_resnet50_2', 1));
    await expect(run('fast', TINY, wide)).rejects.toThrow(/do not fit resnet18, the teacher of preset fast: .*The file holds wide_resnet50_2 weights: choose a preset with that teacher \(paper, official\)/);
  });

  it('refuses a student checkpoint passed as teacher weights', async () => {
    const model = buildReverseDistillation(resolveRdConfig('fast', TINY).config);
    const path = join(dir, 'student.safetensors');
    await writeSafetensors(path, model.stateDict(), { method: 'reverse_distillation' });
    model.dispose();
    await expect(run('fast', TINY, path)).rejects.toThrow(/do not fit resnet18.*It holds a Reverse Distillation student \(bn\.\*, decoder\.\*\), not teacher weights\./);
  });

  it('refuses student weights of the other variant, naming what the file holds and the preset that builds it', async () => {
    // The shapes that tell the variants apart, as RD4AD's wide checkpoint has them (values do not matter: nothing loads).
    const t = (shape: number[]): TensorToWrite => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const path = join(dir, 'official-like.safetensors');
    await writeSafetensors(path, new Map([['bn.bn_layer.0.conv1.weight', t([1024, 3072, 1, 1])], ['bn.conv4.weight', t([2048, 4096, 1, 1])], ['decoder.layer1.0.conv3.weight', t([1024, 512, 1, 1])]]), { method: 'reverse_distillation', preset: 'official' });
    await expect(run('paper', { ...TINY, studentWeights: path })).rejects.toThrow(
      /studentWeights .* holds wide_resnet50_2, bottleneck width 128, with RD4AD's conv4 \(saved by a official run\), but this run \(preset paper\) builds wide_resnet50_2, bottleneck width 64, without RD4AD's conv4: choose preset official, or set bottleneckWidth=128, bottleneckConv4=true/,
    );
    // The ResNet18 pairing without conv4 (an anomalib-style resnet18 bottleneck) into the fast preset.
    const fast = buildReverseDistillation(resolveRdConfig('fast', { ...TINY, bottleneckConv4: false }).config);
    const noConv4 = join(dir, 'fast-no-conv4.safetensors');
    await writeSafetensors(noConv4, fast.stateDict());
    fast.dispose();
    await expect(run('fast', { ...TINY, studentWeights: noConv4 })).rejects.toThrow(/holds resnet18, bottleneck width 64, without RD4AD's conv4, but this run \(preset fast\) builds resnet18, bottleneck width 64, with RD4AD's conv4: set bottleneckConv4=false/);
  });

  it("refuses student weights of another method, naming the method that wrote them", async () => {
    const ae = buildAutoencoder(resolveAutoencoderConfig('fast', { baseWidth: 4, latentChannels: 0 }).config);
    const path = join(dir, 'ae.safetensors');
    await writeSafetensors(path, ae.stateDict(), { method: 'autoencoder', preset: 'fast' });
    ae.dispose();
    await expect(run('fast', { ...TINY, studentWeights: path })).rejects.toThrow(/studentWeights .*ae\.safetensors is not a Reverse Distillation checkpoint: it has no bn\.\* tensors; it was written by method autoencoder/);
    await expect(run('fast', { ...TINY, studentWeights: join(dir, 'missing.safetensors') })).rejects.toThrow(/studentWeights: cannot read .*missing\.safetensors/);
  });

  it('refuses to resume from a training checkpoint of another method', async () => {
    const job = resumingFromCheckpointOf('autoencoder', dir, join(dir, 'resume'));
    await expect(
      runMethod(reverseDistillationMethod, { datasetRoot: data, scenario: 'nut_and_bolt', preset: 'fast', overrides: TINY, weights: 'random', outDir: job.runDir }, { ...quiet, job }),
    ).rejects.toThrow(/cannot resume: its checkpoint was written by method "autoencoder", this run trains reverse_distillation/);
  });

  it('refuses a scenario with no training images', async () => {
    const train = join(data, 'wind_turbine', 'train', 'good');
    for (const f of await readdir(train)) await rm(join(train, f));
    await expect(run('fast', TINY, 'random', 'wind_turbine')).rejects.toThrow(/no training images under .*wind_turbine\/train\/good/);
  });
});
