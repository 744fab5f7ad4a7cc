/**
 * Draws a binary mask onto a canvas as a translucent red overlay, one rectangle at a time. The
 * RGBA buffer is kept between draws and a brush segment only rewrites and uploads the pixels it
 * may have touched (putImageData with a dirty rectangle), so the cost of a segment follows the
 * brush, not the image: at 1024×1024 a whole-mask redraw moves 4 MB per pointer move
 * (bench/annotate-brush.ts measures both).
 */
import type { Mask, Rect } from './mask-ops';

/** The colour of a defect pixel: red at about 60 % opacity over the image. */
export const OVERLAY_RGBA = [237, 28, 36, 150] as const;

/** What the renderer needs of a 2D context: a DOM canvas's, or a fake in tests. */
export interface MaskCanvas {
  createImageData(width: number, height: number): ImageData;
  putImageData(image: ImageData, dx: number, dy: number, dirtyX: number, dirtyY: number, dirtyWidth: number, dirtyHeight: number): void;
}

export class MaskRenderer {
  private readonly image: ImageData;

  constructor(
    private readonly ctx: MaskCanvas,
    private mask: Mask,
  ) {
    this.image = ctx.createImageData(mask.width, mask.height);
  }

  /** Points the renderer at another mask of the same size (after undo, which returns a copy) and redraws all. */
  setMask(mask: Mask): void {
    if (mask.width !== this.mask.width || mask.height !== this.mask.height) throw new Error('MaskRenderer.setMask: another size needs another renderer');
    this.mask = mask;
    this.drawAll();
  }

  drawAll(): void {
    this.draw({ x0: 0, y0: 0, x1: this.mask.width - 1, y1: this.mask.height - 1 });
  }

  /** Rewrites the RGBA of `rect` (inclusive, inside the mask) from the mask and uploads only that. */
  draw(rect: Rect): void {
    const { width, data } = this.mask;
    const out = this.image.data;
    const [r, g, b, a] = OVERLAY_RGBA;
    for (let y = rect.y0; y <= rect.y1; y++) {
      let i = y * width + rect.x0;
      let o = i * 4;
      for (let x = rect.x0; x <= rect.x1; x++, i++, o += 4) {
        if (data[i]) {
          out[o] = r;
          out[o + 1] = g;
          out[o + 2] = b;
          out[o + 3] = a;
        } else {
          out[o + 3] = 0;
        }
      }
    }
    this.ctx.putImageData(this.image, 0, 0, rect.x0, rect.y0, rect.x1 - rect.x0 + 1, rect.y1 - rect.y0 + 1);
  }
}
