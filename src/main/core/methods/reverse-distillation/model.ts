/**
 * Reverse Distillation's trainable graph (Deng & Li, CVPR 2022; METHODS.md section 1.1), as the
 * official code builds it (hq-deng/RD4AD resnet.py `BN_layer`, de_resnet.py `ResNet`):
 *
 *   teacher features [layer1, layer2, layer3] (frozen; computed outside, see fit.ts)
 *     → the one-class bottleneck `bn` (OCBE):
 *         multi-scale fusion: layer1 through two 3×3 stride-2 conv-BN-ReLUs, layer2 through one,
 *         concatenated with layer3 (3 × layer3's channels at 1/16 of the input);
 *         one-class embedding: `bn_layer`, a ResNet layer of 3 bottlenecks (WideResNet50-2) or 2
 *         basic blocks (ResNet18), planes 512, the first with stride 2 (→ 1/32);
 *     → the student `decoder`, the teacher's layers 3, 2, 1 run backwards: each layer's first block
 *       doubles the side with a 2×2 stride-2 transposed convolution (and so does its shortcut);
 *     → student features in the teacher's order [layer1, layer2, layer3].
 *
 * Parameter names are the official state dicts' (`bn.bn_layer.0.conv1.weight`,
 * `decoder.layer1.0.upsample.0.weight`: RD4AD saves {'bn': bn.state_dict(), 'decoder':
 * decoder.state_dict()}, flattened here with a dot), so its checkpoint converted to .safetensors
 * loads as it is (scripts/reference/reverse_distillation.py convert). anomalib v0.3.7's bottleneck
 * has the same names without conv4/bn4, which `bottleneckConv4` leaves out.
 *
 * All convolutions are bias-free; the 3×3 stride-2 ones pad 1 on every side as torch does
 * (nn.Conv2d's explicit padding: TensorFlow's 'same' would pad 0 above and 1 below on even inputs,
 * METHODS 0.1 item 7). Initialisation as the official code: Conv2d weights Kaiming-normal (fan_out,
 * ReLU), BatchNorm 1 and 0, transposed convolutions torch's default (its init loop only visits
 * nn.Conv2d), seeded by name.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import { BatchNorm2d, Conv2d, ConvTranspose2d, Module, Sequential, init } from '../../engine/nn/index';
import { RD_ARCH, type ReverseDistillationConfig } from './config';

/** Teacher or student features of the three levels, in the teacher's order: [layer1, layer2, layer3], each [batch, h_l, w_l, c_l]. */
export type LevelFeatures = [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];

const kaimingFanOut = init.kaimingNormal({ mode: 'fan_out', nonlinearity: 'relu' });

/** RD4AD's conv3x3 (padding 1) / conv1x1, bias-free, Kaiming-initialised. */
function conv(cin: number, cout: number, k: 1 | 3, stride = 1): Conv2d {
  return new Conv2d(cin, cout, k, { stride, padding: k === 3 ? 1 : 0, bias: false }).setInit('weight', kaimingFanOut);
}

/** de_resnet.py's deconv2x2: a 2×2 stride-2 transposed conv, bias-free, torch's default init. */
function deconv(cin: number, cout: number): ConvTranspose2d {
  return new ConvTranspose2d(cin, cout, 2, { stride: 2, bias: false });
}

/** A residual block's shortcut: Sequential(conv or deconv, BatchNorm2d), named `downsample` / `upsample`. */
function shortcut(first: Conv2d | ConvTranspose2d, channels: number): Sequential {
  return new Sequential(first, new BatchNorm2d(channels));
}

/**
 * torchvision's BasicBlock (RD4AD AttnBasicBlock in the bottleneck, de_resnet BasicBlock in the
 * student): conv1 (3×3, stride s; in the student a 2×2 stride-2 deconv when s = 2), BN, ReLU, conv2
 * (3×3), BN, + shortcut, ReLU.
 */
class BasicBlock extends Module {
  readonly conv1: Conv2d | ConvTranspose2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly shortcut: Sequential | null;

  constructor(inplanes: number, planes: number, stride: number, shortcutName: 'downsample' | 'upsample' | null, reverse: boolean) {
    super();
    this.conv1 = this.registerModule('conv1', reverse && stride === 2 ? deconv(inplanes, planes) : conv(inplanes, planes, 3, stride));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', conv(planes, planes, 3));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.shortcut = shortcutName ? this.registerModule(shortcutName, shortcut(reverse ? deconv(inplanes, planes) : conv(inplanes, planes, 1, stride), planes)) : null;
  }

  /** x [batch, h, w, inplanes] → [batch, h·s or h/s, …, planes]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    let out = tf.relu(this.bn1.forward(this.conv1.forward(x)));
    out = this.bn2.forward(this.conv2.forward(out));
    const identity = this.shortcut ? (this.shortcut.forward(x) as tf.Tensor4D) : x;
    return tf.relu(tf.add(out, identity)) as tf.Tensor4D;
  }
}

/**
 * torchvision's Bottleneck (v1.5: the stride on the 3×3; RD4AD AttnBottleneck, whose attention is
 * commented out): conv1 1×1 → width, BN, ReLU, conv2 3×3 stride s (in the student a 2×2 stride-2
 * deconv when s = 2), BN, ReLU, conv3 1×1 → 4·planes, BN, + shortcut, ReLU.
 */
class Bottleneck extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d | ConvTranspose2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly shortcut: Sequential | null;

  constructor(inplanes: number, planes: number, stride: number, baseWidth: number, shortcutName: 'downsample' | 'upsample' | null, reverse: boolean) {
    super();
    const width = Math.floor((planes * baseWidth) / 64);
    const out = planes * 4;
    this.conv1 = this.registerModule('conv1', conv(inplanes, width, 1));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.conv2 = this.registerModule('conv2', reverse && stride === 2 ? deconv(width, width) : conv(width, width, 3, stride));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(width));
    this.conv3 = this.registerModule('conv3', conv(width, out, 1));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(out));
    this.shortcut = shortcutName ? this.registerModule(shortcutName, shortcut(reverse ? deconv(inplanes, out) : conv(inplanes, out, 1, stride), out)) : null;
  }

  /** x [batch, h, w, inplanes] → [batch, h·s or h/s, …, 4·planes]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    let out = tf.relu(this.bn1.forward(this.conv1.forward(x)));
    out = tf.relu(this.bn2.forward(this.conv2.forward(out)));
    out = this.bn3.forward(this.conv3.forward(out));
    const identity = this.shortcut ? (this.shortcut.forward(x) as tf.Tensor4D) : x;
    return tf.relu(tf.add(out, identity)) as tf.Tensor4D;
  }
}

type BottleneckOptions = Pick<ReverseDistillationConfig, 'backbone' | 'bottleneckWidth' | 'bottleneckConv4'>;

/**
 * The one-class bottleneck embedding (RD4AD resnet.py `BN_layer`; anomalib v0.3.7 `OCBE`).
 * Children in RD4AD's registration order: bn_layer, conv1, bn1, conv2, bn2, conv3, bn3[, conv4, bn4].
 */
export class OneClassBottleneck extends Module {
  readonly bnLayer: Sequential;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;

  constructor(options: BottleneckOptions) {
    super();
    const a = RD_ARCH[options.backbone];
    const [c1, c2, c3] = a.channels;
    const e = a.expansion;
    const blocks: Module[] = [];
    let inplanes = 3 * c3;
    for (let i = 0; i < a.bottleneckBlocks; i++) {
      const stride = i === 0 ? 2 : 1;
      const name = i === 0 ? 'downsample' : null;
      blocks.push(e === 1 ? new BasicBlock(inplanes, 512, stride, name, false) : new Bottleneck(inplanes, 512, stride, options.bottleneckWidth, name, false));
      inplanes = 512 * e;
    }
    this.bnLayer = this.registerModule('bn_layer', new Sequential(...(blocks as (BasicBlock | Bottleneck)[])));
    this.conv1 = this.registerModule('conv1', conv(c1, c2, 3, 2));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(c2));
    this.conv2 = this.registerModule('conv2', conv(c2, c3, 3, 2));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(c3));
    this.conv3 = this.registerModule('conv3', conv(c2, c3, 3, 2));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(c3));
    if (options.bottleneckConv4) {
      // Built by RD4AD and never run: it exists so its checkpoints load, and has no gradient.
      this.registerModule('conv4', conv(1024 * e, 512 * e, 1));
      this.registerModule('bn4', new BatchNorm2d(512 * e));
    }
  }

  /**
   * @param features teacher [layer1 [b, s/4, s/4, c1], layer2 [b, s/8, s/8, c2], layer3 [b, s/16, s/16, c3]]
   * @returns the one-class embedding [b, s/32, s/32, 512·expansion]
   */
  forward(features: readonly tf.Tensor4D[]): tf.Tensor4D {
    const [f1, f2, f3] = features as LevelFeatures;
    const l1 = tf.relu(this.bn2.forward(this.conv2.forward(tf.relu(this.bn1.forward(this.conv1.forward(f1))))));
    const l2 = tf.relu(this.bn3.forward(this.conv3.forward(f2)));
    return this.bnLayer.forward(tf.concat([l1, l2, f3], 3)) as tf.Tensor4D;
  }
}

/** The student (RD4AD de_resnet.py `ResNet` with layers 1–3): the teacher's layers run backwards. */
export class ReverseResNet extends Module {
  readonly layers: [Sequential, Sequential, Sequential];

  constructor(backbone: ReverseDistillationConfig['backbone']) {
    super();
    const a = RD_ARCH[backbone];
    const e = a.expansion;
    let inplanes = 512 * e;
    const planes = [256, 128, 64];
    this.layers = planes.map((p, l) => {
      const blocks: (BasicBlock | Bottleneck)[] = [];
      for (let i = 0; i < a.decoderBlocks[l]!; i++) {
        const stride = i === 0 ? 2 : 1;
        const name = i === 0 ? 'upsample' : null;
        blocks.push(e === 1 ? new BasicBlock(inplanes, p, stride, name, true) : new Bottleneck(inplanes, p, stride, a.decoderWidth, name, true));
        inplanes = p * e;
      }
      return this.registerModule(`layer${l + 1}`, new Sequential(...blocks));
    }) as [Sequential, Sequential, Sequential];
  }

  /**
   * @param embedding [b, s/32, s/32, 512·expansion]
   * @returns student features in the teacher's order: [layer1 [b, s/4, …], layer2 [b, s/8, …], layer3 [b, s/16, …]]
   */
  forward(embedding: tf.Tensor4D): LevelFeatures {
    const a = this.layers[0].forward(embedding) as tf.Tensor4D;
    const b = this.layers[1].forward(a) as tf.Tensor4D;
    const c = this.layers[2].forward(b) as tf.Tensor4D;
    return [c, b, a];
  }
}

/** The trainable half of RD: bottleneck `bn` and student `decoder`. */
export class ReverseDistillation extends Module {
  readonly bn: OneClassBottleneck;
  readonly decoder: ReverseResNet;

  constructor(readonly options: BottleneckOptions) {
    super();
    this.bn = this.registerModule('bn', new OneClassBottleneck(options));
    this.decoder = this.registerModule('decoder', new ReverseResNet(options.backbone));
  }

  /**
   * @param teacher the teacher's [layer1, layer2, layer3] (see OneClassBottleneck.forward); the spatial sides must be s/4, s/8, s/16 of one s divisible by 32
   * @returns the bottleneck's embedding and the student's features, in the teacher's shapes
   */
  forward(teacher: readonly tf.Tensor4D[]): { embedding: tf.Tensor4D; student: LevelFeatures } {
    if (teacher.length !== 3) throw new LabError(`Reverse Distillation takes 3 teacher levels, got ${teacher.length}`, 'ValidationError');
    const embedding = this.bn.forward(teacher);
    const student = this.decoder.forward(embedding);
    student.forEach((s, i) => {
      const t = teacher[i]!;
      if (s.shape.some((d, j) => d !== t.shape[j])) {
        throw new LabError(`Reverse Distillation: student level ${i + 1} is [${s.shape.join(', ')}] but the teacher's is [${t.shape.join(', ')}] (the input side must be a multiple of 32)`, 'ValidationError');
      }
    });
    return { embedding, student };
  }
}

/** The model of a config with its seeded initial weights. */
export function buildReverseDistillation(config: ReverseDistillationConfig): ReverseDistillation {
  return new ReverseDistillation(config).initialize(config.seed);
}
