// The tiny composite net of the nn tests (mirrored by TinyNet in scripts/parity/nn.py):
// conv 3×3 s2 p1 → BN → ReLU → convT 3×3 s2 p1 op1 → BN → ReLU → bilinear resize (align_corners) → conv 3×3 p1.
// Input [batch, 2n, 2n, 3] NHWC, output [batch, up, up, 3].
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d, Conv2d, ConvTranspose2d, Module, ReLU, Sequential, init } from '../../src/main/core/engine/nn';

export class TinyNet extends Module {
  readonly enc = this.registerModule('enc', new Sequential(new Conv2d(3, 6, 3, { stride: 2, padding: 1 }), new BatchNorm2d(6), new ReLU()));
  readonly dec = this.registerModule('dec', new ConvTranspose2d(6, 4, 3, { stride: 2, padding: 1, outputPadding: 1 }));
  readonly bn = this.registerModule('bn', new BatchNorm2d(4));
  readonly head = this.registerModule('head', new Conv2d(4, 3, 3, { padding: 1 }));

  constructor(readonly up: number) {
    super();
  }

  /** Random BN affine parameters and running statistics, so every path of the test carries information. */
  randomizeNorms(): this {
    for (const bn of [this.enc.at(1), this.bn]) {
      bn.setInit('weight', init.uniform(0.5, 1.5)).setInit('bias', init.uniform(-0.5, 0.5));
      bn.setInit('running_mean', init.uniform(-0.5, 0.5)).setInit('running_var', init.uniform(0.5, 2));
    }
    return this;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const h = this.enc.forward(x) as tf.Tensor4D;
    const d = tf.relu(this.bn.forward(this.dec.forward(h)));
    return this.head.forward(tf.image.resizeBilinear(d, [this.up, this.up], true));
  }
}
