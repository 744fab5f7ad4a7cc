// UniAD's reconstruction against the plain-PyTorch reference (scripts/reference/uniad.py: torch's own
// nn.MultiheadAttention / nn.LayerNorm), at reduced width (hidden 32, 4 heads, 2 + 2 layers, FFN 64) on an
// 8 × 8 token grid (128 px) with the 7×7 neighbour mask on all three attentions, dropout off, the jitter
// noise passed in: the reconstructed features, the loss, the map and the score, every parameter gradient,
// the global norm that clipping reads and one AdamW step after clipping, and the eval-mode map and score.
// Same seeded weights on both sides (ours, written as a state dict with the official names).
//
// Largest errors seen on wasm (max |ours − torch| / max |torch|; printed by the test): feature_rec 3.4e-7,
// map 4.3e-7, score 8.7e-8, loss 2.8e-6 (relative), gradients 6.5e-7 (worst: a decoder layer's learned
// queries), clipped global norm 4.3e-7 (relative), eval map 3.6e-7, eval score 1.9e-7; the AdamW step
// after clipping 2.9e-3 of the learning rate (worst: an attention's key bias, whose gradient is zero
// in exact arithmetic: its sign is noise on both sides, and Adam's first step moves by ±lr whatever the
// gradient's size). The bars sit 10× or more above these.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { encodeNpy } from '../../src/main/core/engine/npy';
import { writeSafetensors } from '../../src/main/core/engine/safetensors';
import { AdamW, clipGradNorm } from '../../src/main/core/engine/optim/index';
import { mulberry32, normalArray } from '../../src/main/core/engine/random';
import { resolveUniadConfig, uniadParameterCount } from '../../src/main/core/methods/uniad/config';
import { anomalyMaps } from '../../src/main/core/methods/uniad/anomaly-map';
import { featureMseLoss } from '../../src/main/core/methods/uniad/loss';
import { buildUniad } from '../../src/main/core/methods/uniad/model';
import { runPython } from '../../scripts/parity/reference';
import { readNpy } from '../autoencoder/helpers';
import { relError } from '../helpers/parity';
import { useTmpDirs } from '../helpers/tmp';

const SCRIPT = fileURLToPath(new URL('../../scripts/reference/uniad.py', import.meta.url));
const tmp = useTmpDirs();

const { config: base } = resolveUniadConfig('fast', {
  inputSize: 128,
  hiddenDim: 32,
  heads: 4,
  encoderLayers: 2,
  decoderLayers: 2,
  feedforward: 64,
  dropout: 0,
  learningRate: 1e-3,
  weightDecay: 1e-2,
  clipMaxNorm: 0.1,
  seed: 7,
});
const B = 2;
const SIDE = 8;
const C = 272;

function uniform(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => r() * 2);
}

describe('UniAD against the PyTorch reference (8×8 tokens, hidden 32, 2 + 2 layers)', () => {
  let out = '';
  const report: Record<string, number> = {};

  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('gives the same features, loss, map, score, gradients, clipped norm, AdamW step and eval maps', async () => {
    const dir = await tmp();
    out = join(dir, 'out');
    const feat = join(dir, 'features');
    await mkdir(feat, { recursive: true });
    const model = buildUniad(base);
    try {
      expect(model.parameters().reduce((a, p) => a + p.size, 0)).toBe(uniadParameterCount(base));
      await writeSafetensors(join(dir, 'w.safetensors'), model.stateDict());
      const n = B * SIDE * SIDE * C;
      const align = uniform(n, 1);
      const noise = normalArray(n, 2);
      const test = uniform(n, 3);
      const shape = [B, SIDE, SIDE, C];
      await writeFile(join(feat, 'align.npy'), encodeNpy(align, shape));
      await writeFile(join(feat, 'noise.npy'), encodeNpy(noise, shape));
      await writeFile(join(feat, 'test.npy'), encodeNpy(test, shape));
      await writeFile(join(dir, 'cfg.json'), JSON.stringify(base));
      await runPython([SCRIPT, 'step', '--weights', join(dir, 'w.safetensors'), '--features', feat, '--config', join(dir, 'cfg.json'), '--out', out], 300_000);
      const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { loss: number; total_norm: number; parameters: string[] };
      expect(results.parameters).toEqual(model.namedParameters().map(([name]) => name));

      const x = tf.tensor4d(align, shape as [number, number, number, number]);
      const z = tf.tensor4d(noise, shape as [number, number, number, number]);
      model.train();
      // Forward outputs (no gradient) first.
      const fwd = tf.tidy(() => {
        const rec = model.forward(x, { jitterNoise: z, jitterScale: base.jitterScale });
        const { maps, scores } = anomalyMaps(rec, x, base.scorePool);
        return { rec, maps, scores, loss: featureMseLoss(rec, x) };
      });
      report['rec'] = relError(await fwd.rec.data(), (await readNpy(join(out, 'rec.npy'))).data);
      report['map'] = relError(await fwd.maps.data(), (await readNpy(join(out, 'map.npy'))).data);
      report['score'] = relError(await fwd.scores.data(), (await readNpy(join(out, 'score.npy'))).data);
      report['loss'] = Math.abs((await fwd.loss.data())[0]! - results.loss) / results.loss;
      tf.dispose(fwd);

      const named = model.namedParameters();
      const { value, grads } = tf.variableGrads(() => featureMseLoss(model.forward(x, { jitterNoise: z, jitterScale: base.jitterScale }), x), named.map(([, v]) => v));
      value.dispose();
      let worstGrad = 0;
      let worstName = '';
      for (const [name, v] of named) {
        const g = model.toTorchLayout(name, grads[v.name]!);
        const e = relError(await g.data(), (await readNpy(join(out, `grad.${name}.npy`))).data);
        g.dispose();
        if (e > worstGrad) [worstGrad, worstName] = [e, name];
      }
      report['grad'] = worstGrad;
      const total = clipGradNorm(grads, base.clipMaxNorm);
      report['totalNorm'] = Math.abs(total - results.total_norm) / results.total_norm;
      expect(results.total_norm).toBeGreaterThan(base.clipMaxNorm); // clipping really happens
      const opt = new AdamW(named, { lr: base.learningRate, betas: [base.beta1, base.beta2], eps: 1e-8, weightDecay: base.weightDecay });
      opt.step(grads);
      tf.dispose(grads);
      opt.dispose();
      // In units of the learning rate: the first AdamW step moves each weight by about ±lr·m/√v.
      let worstAfter = 0;
      let worstAfterName = '';
      for (const [name, t] of model.stateDict()) {
        const ref = (await readNpy(join(out, `after.${name}.npy`))).data;
        const ours = t.data as Float32Array;
        let d = 0;
        for (let i = 0; i < ref.length; i++) d = Math.max(d, Math.abs(ours[i]! - ref[i]!));
        if (d / base.learningRate > worstAfter) [worstAfter, worstAfterName] = [d / base.learningRate, name];
      }
      report['afterInLr'] = worstAfter;

      model.eval();
      const t = tf.tensor4d(test, shape as [number, number, number, number]);
      const ev = tf.tidy(() => anomalyMaps(model.forward(t), t, base.scorePool));
      report['evalMap'] = relError(await ev.maps.data(), (await readNpy(join(out, 'eval.map.npy'))).data);
      report['evalScore'] = relError(await ev.scores.data(), (await readNpy(join(out, 'eval.score.npy'))).data);
      tf.dispose([ev.maps, ev.scores, x, z, t]);
      console.info(`UniAD parity (wasm; max |ours − torch| / max |torch|): ${JSON.stringify(report)}; worst gradient ${worstName}, worst step ${worstAfterName}`);

      expect(report['rec']).toBeLessThan(1e-4);
      expect(report['loss']).toBeLessThan(1e-5);
      expect(report['map']).toBeLessThan(1e-4);
      expect(report['score']).toBeLessThan(1e-4);
      expect(report['grad']).toBeLessThan(1e-3);
      expect(report['totalNorm']).toBeLessThan(1e-5);
      expect(report['afterInLr']).toBeLessThan(1e-2);
      expect(report['evalMap']).toBeLessThan(1e-4);
      expect(report['evalScore']).toBeLessThan(1e-4);
    } finally {
      model.dispose();
    }
  }, 300_000);
});
