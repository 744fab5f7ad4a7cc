// tf_efficientnet_b4, the TF-ported B4 UniAD runs: lukemelas' tensor names, the static 'same'
// padding computed for 380 px (the table of tf-efficientnet.ts, against TF's dynamic padding and
// timm's symmetric one), the output sizes that padding gives, refusal of timm files (and of
// lukemelas files given as efficientnet_b4) saying why, and its registration: index.ts, the weights
// manager (import, verify, a fetch that says how to convert the .pth), the features job's schema.
// Numerical agreement with a PyTorch reference is tf-efficientnet-parity.test.ts.
import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { EfficientNetBackbone, EFFICIENTNET_LAYERS, efficientNetPadding, efficientNetParameters, randomEfficientNetWeights } from '../../src/main/core/engine/backbones/efficientnet';
import { sameStaticPadding, TF_B4_BUILT_FOR } from '../../src/main/core/engine/backbones/tf-efficientnet';
import { architectureParameters, backboneChannels, backboneLayers, backboneStrides, buildBackbone, checkArchitecture, float32Bytes, isBuiltArch, BUILT_ARCHS } from '../../src/main/core/engine/backbones/index';
import { decodeSafetensors, encodeSafetensors, writeSafetensors, type DecodedTensor } from '../../src/main/core/engine/safetensors';
import { WeightsManager, WEIGHTS_CATALOG } from '../../src/main/core/engine/weights';
import { featuresConfigSchema } from '../../src/main/core/jobs/kinds/features';
import { useTmpDirs } from '../helpers/tmp';

const ARCH = 'tf_efficientnet_b4' as const;
const tmp = useTmpDirs();
let tensors: Map<string, DecodedTensor>;

beforeAll(async () => {
  await initBackend('wasm');
  tensors = decodeSafetensors(encodeSafetensors(randomEfficientNetWeights(ARCH, 1, { randomBatchNorm: true }))).tensors;
});

/** The shapes of a weight set, as checkArchitecture takes them. */
function shapesOf(m: Map<string, { shape: number[] }>): Map<string, { shape: number[] }> {
  return new Map([...m].map(([k, v]) => [k, { shape: v.shape }]));
}

describe('tf_efficientnet_b4: names and static padding', () => {
  it("has lukemelas' names, flat blocks _blocks.0..31, and timm efficientnet_b4's shapes and parameter count", () => {
    const params = efficientNetParameters(ARCH);
    const timm = efficientNetParameters('efficientnet_b4');
    let n = 0;
    for (const [name, spec] of params) if (!/running_|num_batches/.test(name)) n += spec.shape.reduce((a, b) => a * b, 1);
    expect(n).toBe(19_341_616);
    // Same network, same order: only the names differ.
    expect([...params.values()].map((s) => s.shape)).toEqual([...timm.values()].map((s) => s.shape));
    const blocks = new Set([...params.keys()].filter((k) => k.startsWith('_blocks.')).map((k) => Number(k.split('.')[1])));
    expect([...blocks].sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(params.get('_conv_stem.weight')?.shape).toEqual([48, 3, 3, 3]);
    expect(params.get('_bn0.running_var')?.shape).toEqual([48]);
    // Blocks 0-1 have no expansion: depthwise conv + _bn1, project + _bn2.
    expect(params.has('_blocks.1._expand_conv.weight')).toBe(false);
    expect(params.get('_blocks.0._depthwise_conv.weight')?.shape).toEqual([48, 1, 3, 3]);
    expect(params.get('_blocks.0._se_reduce.weight')?.shape).toEqual([12, 48, 1, 1]);
    expect(params.get('_blocks.0._project_conv.weight')?.shape).toEqual([24, 48, 1, 1]);
    expect(params.get('_blocks.2._expand_conv.weight')?.shape).toEqual([144, 24, 1, 1]);
    expect(params.get('_blocks.6._depthwise_conv.weight')?.shape).toEqual([192, 1, 5, 5]);
    expect(params.get('_blocks.6._se_expand.bias')?.shape).toEqual([192]);
    expect(params.get('_blocks.31._project_conv.weight')?.shape).toEqual([448, 2688, 1, 1]);
    expect(params.get('_blocks.31._bn2.bias')?.shape).toEqual([448]);
    expect(params.get('_conv_head.weight')).toMatchObject({ shape: [1792, 448, 1, 1], optional: true });
    expect(params.get('_bn1.weight')).toMatchObject({ shape: [1792], optional: true });
    expect(params.get('_fc.weight')).toMatchObject({ shape: [1000, 1792], optional: true });
    expect([...params.keys()].some((k) => k.startsWith('blocks.') || k === 'conv_stem.weight')).toBe(false);
  });

  it("pads as lukemelas' Conv2dStaticSamePadding built for 380: at 224 one stride-2 5×5 conv pads (2, 2) where TF pads (1, 2)", () => {
    expect(TF_B4_BUILT_FOR).toBe(380);
    // The rule itself: total = max((⌈n/s⌉ − 1)·s + k − n, 0), the odd pixel after.
    expect(sameStaticPadding(380, 3, 2)).toEqual([0, 1]);
    expect(sameStaticPadding(95, 5, 2)).toEqual([2, 2]);
    expect(sameStaticPadding(56, 5, 2)).toEqual([1, 2]);
    expect(sameStaticPadding(24, 5, 2)).toEqual([1, 2]);
    expect(sameStaticPadding(17, 5, 1)).toEqual([2, 2]);

    const rows = efficientNetPadding(ARCH);
    expect(rows).toHaveLength(33); // the stem and 32 depthwise convs
    const strided = rows.filter((r) => r.stride === 2).map((r) => [r.conv, r.k, r.pad]);
    expect(strided).toEqual([
      ['_conv_stem', 3, [0, 1]],
      ['_blocks.2._depthwise_conv', 3, [0, 1]],
      ['_blocks.6._depthwise_conv', 5, [2, 2]],
      ['_blocks.10._depthwise_conv', 3, [0, 1]],
      ['_blocks.22._depthwise_conv', 5, [1, 2]],
    ]);
    for (const r of rows.filter((x) => x.stride === 1)) expect(r.pad, r.conv).toEqual([(r.k - 1) / 2, (r.k - 1) / 2]);

    // TF's dynamic 'same' at 224 (from each conv's actual input size) differs in block 6 only.
    let size = 224;
    const dynamic = rows.map((r) => {
      const pad = sameStaticPadding(size, r.k, r.stride);
      size = Math.ceil(size / r.stride);
      return pad;
    });
    const differ = rows.filter((r, i) => JSON.stringify(r.pad) !== JSON.stringify(dynamic[i])).map((r) => [r.conv, r.pad, dynamic[rows.indexOf(r)]]);
    expect(differ).toEqual([['_blocks.6._depthwise_conv', [2, 2], [1, 2]]]);

    // timm's efficientnet_b4 pads k//2 on both sides everywhere: it differs in the four asymmetric convs.
    const timm = efficientNetPadding('efficientnet_b4');
    expect(timm.every((r) => r.pad[0] === Math.floor(r.k / 2) && r.pad[1] === Math.floor(r.k / 2))).toBe(true);
    const asymmetric = rows.filter((r) => r.pad[0] !== r.pad[1]).map((r) => r.conv);
    expect(asymmetric).toEqual(['_conv_stem', '_blocks.2._depthwise_conv', '_blocks.10._depthwise_conv', '_blocks.22._depthwise_conv']);
    expect(rows.filter((r, i) => JSON.stringify(r.pad) !== JSON.stringify(timm[i]!.pad)).map((r) => r.conv)).toEqual(asymmetric);
  });

  it('gives ⌈n/stride⌉ at 224 and 256, one less after a stride-2 conv at odd sizes, and leaks nothing', () => {
    const model = EfficientNetBackbone.fromTensors(ARCH, tensors);
    try {
      const before = tf.memory().numTensors;
      const sizes = (h: number, w: number) => {
        const out = tf.tidy(() => model.forward(tf.zeros([1, h, w, 3]) as tf.Tensor4D, EFFICIENTNET_LAYERS));
        const s = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.shape.slice(1, 3)]));
        tf.dispose(Object.values(out));
        return s;
      };
      expect(sizes(224, 224)).toEqual({ layer1: [112, 112], layer2: [56, 56], layer3: [28, 28], layer4: [14, 14], layer5: [7, 7] });
      expect(sizes(256, 256)).toEqual({ layer1: [128, 128], layer2: [64, 64], layer3: [32, 32], layer4: [16, 16], layer5: [8, 8] });
      // 65: stem (0, 1) → ⌊(65 + 1 − 3)/2⌋ + 1 = 32 (timm: 33), then 16, 8, 4, 2; 49 → 24, 12, 6, 3, and
      // block 22's (1, 2) 5×5 on 3 columns → ⌊(3 + 3 − 5)/2⌋ + 1 = 1 (timm: 2).
      expect(sizes(65, 49)).toEqual({ layer1: [32, 24], layer2: [16, 12], layer3: [8, 6], layer4: [4, 3], layer5: [2, 1] });
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  });
});

describe('tf_efficientnet_b4: refusals and registration', () => {
  it("refuses a timm checkpoint, saying it has timm's names and which names it takes; efficientnet_b4 refuses lukemelas' likewise", () => {
    const timmFile = decodeSafetensors(encodeSafetensors(randomEfficientNetWeights('efficientnet_b4', 2))).tensors;
    expect(() => buildBackbone(ARCH, timmFile)).toThrow(
      /weights do not fit tf_efficientnet_b4: these are timm's tensor names \('conv_stem\.weight'.*takes lukemelas EfficientNet-PyTorch names \('_conv_stem\.weight'.*efficientnet-b4-6ed6700e\.pth/,
    );
    const problems = checkArchitecture(ARCH, shapesOf(timmFile));
    expect(problems[0]).toMatch(/^these are timm's tensor names/);
    expect(problems[1]).toMatch(/tensor '_conv_stem\.weight' is missing/);
    expect(() => buildBackbone('efficientnet_b4', tensors)).toThrow(/weights do not fit efficientnet_b4: these are lukemelas EfficientNet-PyTorch tensor names .*which is tf_efficientnet_b4/);
    // A set of the right naming with one tensor wrong gets no naming message, only the tensor.
    const bad = new Map(tensors);
    bad.set('_blocks.6._depthwise_conv.weight', { dtype: 'F32', shape: [192, 1, 3, 3], data: new Float32Array(192 * 9) });
    expect(checkArchitecture(ARCH, shapesOf(bad))).toEqual(["tensor '_blocks.6._depthwise_conv.weight' has shape [192, 1, 3, 3], expected [192, 1, 5, 5]"]);
    const partial = new Map([...tensors].filter(([k]) => !k.startsWith('_blocks.21._se_')));
    expect(() => buildBackbone(ARCH, partial)).toThrow(/weights do not fit tf_efficientnet_b4: tensor '_blocks\.21\._se_reduce\.weight' is missing/);
    // The head and classifier are optional.
    buildBackbone(ARCH, new Map([...tensors].filter(([k]) => !/^(_conv_head|_bn1|_fc)\./.test(k)))).dispose();
  });

  it('is registered beside efficientnet_b4: index.ts, the weights manager, the features job', async () => {
    expect(isBuiltArch(ARCH)).toBe(true);
    expect(BUILT_ARCHS).toContain(ARCH);
    expect(backboneLayers(ARCH)).toEqual(EFFICIENTNET_LAYERS);
    expect(backboneStrides(ARCH)).toEqual({ layer1: 2, layer2: 4, layer3: 8, layer4: 16, layer5: 32 });
    expect(backboneChannels(ARCH)).toEqual({ layer1: 24, layer2: 32, layer3: 56, layer4: 160, layer5: 448 });
    expect(architectureParameters(ARCH)?.has('_blocks.31._bn2.running_var')).toBe(true);
    expect(float32Bytes(ARCH)).toBe(float32Bytes('efficientnet_b4'));
    // Seeded: the same seed draws the same weights, and the SE biases are zero unless asked otherwise.
    const a = randomEfficientNetWeights(ARCH, 1, { randomBatchNorm: true });
    expect(a.get('_blocks.9._expand_conv.weight')?.data).toEqual(tensors.get('_blocks.9._expand_conv.weight')?.data);
    expect([...(randomEfficientNetWeights(ARCH, 1).get('_blocks.9._se_reduce.bias')?.data as Float32Array)].every((v) => v === 0)).toBe(true);
    expect([...(tensors.get('_blocks.9._se_reduce.bias')?.data as Float32Array)].some((v) => v !== 0)).toBe(true);

    const dir = await tmp();
    let fetched = 0;
    const manager = new WeightsManager({
      workspaceDir: join(dir, 'ws'),
      fetchImpl: () => {
        fetched++;
        return Promise.reject(new Error('no network in this test'));
      },
    });
    const entry = WEIGHTS_CATALOG.find((e) => e.arch === ARCH);
    expect(entry).toMatchObject({ id: 'tf_efficientnet_b4.lukemelas', published: 'pth' });
    expect(entry?.url).toMatch(/efficientnet-b4-6ed6700e\.pth$/);
    const id = entry!.id;
    await expect(manager.fetch(id)).rejects.toThrow(/published only as a PyTorch \.pth .*scripts\/pth-to-safetensors\.py .*miad-lab weights import --workspace .* --id tf_efficientnet_b4\.lukemelas/);
    expect(fetched).toBe(0);
    const random = await manager.writeRandom(ARCH, 3);
    expect((await manager.import(id, random.path)).local).toMatchObject({ source: 'import', structure: 'checked' });
    expect((await manager.verify(id)).ok).toBe(true);
    const timmPath = join(dir, 'efficientnet_b4.safetensors');
    await writeSafetensors(timmPath, randomEfficientNetWeights('efficientnet_b4', 1));
    await expect(manager.import(id, timmPath)).rejects.toThrow(/cannot be imported as tf_efficientnet_b4\.lukemelas: these are timm's tensor names/);
    await expect(manager.import('efficientnet_b4.ra2_in1k', random.path)).rejects.toThrow(/cannot be imported as efficientnet_b4\.ra2_in1k: these are lukemelas EfficientNet-PyTorch tensor names/);

    const base = { datasetId: 1, scenario: 's', arch: ARCH };
    expect(featuresConfigSchema.parse({ ...base, layers: ['layer1', 'layer5'] })).toMatchObject({ arch: ARCH, layers: ['layer1', 'layer5'] });
    expect(() => featuresConfigSchema.parse({ ...base, arch: 'resnet18', layers: ['layer5'] })).toThrow(/layer5 exists for efficientnet_b4 and tf_efficientnet_b4 only/);
  });
});
