/**
 * Trainable layers with PyTorch's names and layouts (issue 13): a small torch.nn for tfjs-core.
 * Why not @tensorflow/tfjs-layers: keras' BatchNorm momentum convention and biased running
 * variance, keras names and keras weight layouts would all need patching to load and save torch
 * state dicts; this module keeps torch's arithmetic and names and converts layouts only at the
 * state-dict boundary (module.ts).
 *
 * Usage (a model is built from (config, seed); the same seed gives the same weights everywhere):
 *
 *   class Net extends Module {
 *     readonly enc = this.registerModule('enc', new Sequential(new Conv2d(3, 8, 3, { padding: 1 }), new BatchNorm2d(8), new ReLU()));
 *     forward(x: tf.Tensor4D) { return this.enc.forward(x) as tf.Tensor4D; }
 *   }
 *   const net = new Net().initialize(seed);
 *   const { value, grads } = tf.variableGrads(() => loss(net.forward(x)), net.trainableParameters());
 *
 * Plain tf ops that match torch and need no module (NHWC):
 *   - F.relu / nn.ReLU: tf.relu; nn.LeakyReLU(s): tf.leakyRelu(x, s); torch.sigmoid / tanh: tf.sigmoid / tf.tanh;
 *     F.gelu (erf form): tf.mul(x, tf.mul(0.5, tf.add(1, tf.erf(tf.div(x, Math.SQRT2))))).
 *   - nn.MaxPool2d(k, s) / nn.AvgPool2d(k, s) without padding: tf.maxPool(x, k, s, 'valid') /
 *     tf.avgPool(x, k, s, 'valid'); AvgPool2d with padding counts the padded zeros
 *     (count_include_pad=True), tf.avgPool with a number pad does not: pad with tf.pad first.
 *   - F.interpolate(mode='bilinear', align_corners=True) ≡ tf.image.resizeBilinear(x, size, true);
 *     align_corners=False (upsampling) ≡ tf.image.resizeBilinear(x, size, false, true) FORWARD ONLY:
 *     tfjs' ResizeBilinearGrad ignores halfPixelCenters, so never differentiate through a half-pixel
 *     resize (METHODS 0.1 item 4). mode='nearest' ≡ tf.image.resizeNearestNeighbor(x, size) for
 *     integer upscale factors.
 *   - F.mse_loss: tf.losses.meanSquaredError or tf.mean(tf.squaredDifference(a, b)).
 *   - Channel concatenation torch.cat(dim=1) ≡ tf.concat(xs, 3) (NHWC).
 *   - Avoid tf.stridedSlice, gatherND, depthToSpace, einsum, topk in differentiated code: tfjs-core
 *     registers no gradient for them (METHODS 0.1 item 3); use tf.slice/split, reshape+transpose.
 */
export { Module, ModuleList, Sequential } from './module';
export type { Layout, TensorSpec, BufferSpec, LoadStateDictOptions, LoadStateDictResult, UnaryModule } from './module';
export {
  Conv2d,
  ConvTranspose2d,
  BatchNorm2d,
  LayerNorm,
  Linear,
  MultiheadAttention,
  Dropout,
  Embedding,
  Lambda,
  ReLU,
  Identity,
} from './layers';
export type {
  Conv2dOptions,
  ConvTranspose2dOptions,
  BatchNorm2dOptions,
  LayerNormOptions,
  LinearOptions,
  MultiheadAttentionOptions,
  AttentionOptions,
} from './layers';
export { Rng } from './rng';
export type { RngState } from './rng';
export * as init from './init';
export type { Initializer } from './init';
