/**
 * THE binarisation rule of masks, as MVTec AD's: a pixel is anomalous when any of its colour
 * channels is > 0; an alpha channel is not ground truth. Every reader of a mask applies it: the
 * main process's mask reader (main/core/image/mask.ts, which asks sharp for 16-bit grey, where
 * "> 0" is this rule), a mask saved through the annotation calls, the run report, and the editor
 * in the renderer (which reads pixels from a canvas: there a fully transparent pixel reads as 0).
 */

/**
 * `data` holds `pixels` pixels of `channels` interleaved channels (1 grey, 2 grey+alpha, 3 RGB,
 * 4 RGBA); returns one byte per pixel: `on` where anomalous, 0 elsewhere.
 */
export function binariseMask(data: ArrayLike<number>, pixels: number, channels: number, on = 1): Uint8Array {
  const colour = channels === 2 || channels === 4 ? channels - 1 : channels;
  const out = new Uint8Array(pixels);
  for (let p = 0; p < pixels; p++) {
    const at = p * channels;
    for (let c = 0; c < colour; c++) {
      if ((data[at + c] ?? 0) > 0) {
        out[p] = on;
        break;
      }
    }
  }
  return out;
}
