/**
 * Floating-point operations of the networks the methods run, for the cost shown before a run
 * starts (METHODS.md section 7 item 7). Pure arithmetic, no tensor code: the main process computes
 * estimates without loading tfjs. A multiply-add counts as 2 FLOP, as METHODS.md counts them.
 */

/** FLOP of a 2-D convolution producing [outH, outW, cout] from cin channels with a k×k kernel. */
export function convFlops(cin: number, cout: number, k: number, outH: number, outW: number): number {
  return 2 * cin * cout * k * k * outH * outW;
}

/**
 * Forward GFLOP of the frozen backbones up to a layer, for one 224×224 image, counted with forward
 * hooks on torchvision's models (Conv2d only; 2·MAC); they scale with the pixel count.
 */
const BACKBONE_GFLOP_224: Record<string, Record<string, number>> = {
  resnet18: { layer1: 1.16, layer2: 1.98, layer3: 2.81, layer4: 3.63 },
  wide_resnet50_2: { layer1: 4.19, layer2: 9.95, layer3: 18.37, layer4: 22.79 },
};

/** Forward GFLOP of `arch` up to its deepest layer in `layers`, at size × size. */
export function backboneGflop(arch: string, layers: readonly string[], size: number): number {
  const table = BACKBONE_GFLOP_224[arch];
  if (!table) return 0;
  const deepest = layers.reduce((acc, l) => Math.max(acc, Number(l.replace('layer', '')) || 0), 1);
  return (table[`layer${deepest}`] ?? 0) * (size / 224) ** 2;
}
