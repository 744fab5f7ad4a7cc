/**
 * THE ground-truth mask reader (issue 20, "one mask reader"): training's test loop, `evaluate`
 * and the run report all read masks here, so a mask means the same everywhere.
 *
 * One binarisation rule, as MVTec AD's: a pixel is anomalous when its value is > 0. Masks are
 * decoded by sharp to 16-bit grey, which keeps every kind of PNG a tool writes (8- or 16-bit grey,
 * palette, RGB, RGBA, grey+alpha; JPEG too) comparable:
 *   - 16-bit grey keeps its values exactly (a 1 of 65535 is anomalous);
 *   - palette and colour masks are converted to grey; for 8-bit colours any channel > 0 gives a grey
 *     value > 0 (the smallest, blue 1, is 18 of 65535), so "any colour channel > 0" holds;
 *   - alpha is never ground truth: it is dropped, a transparent pixel counts by its colour.
 */
import sharp from 'sharp';
import { LabError } from '../../../shared/errors';

export interface BinaryMask {
  width: number;
  height: number;
  /** [height, width]: 1 anomalous, 0 normal. */
  data: Uint8Array;
}

/**
 * Reads a mask file (or its bytes) at its own size. An unreadable one throws a LabError naming
 * `label` and sharp's reason.
 */
export async function readBinaryMask(source: string | Uint8Array, label = typeof source === 'string' ? source : 'mask'): Promise<BinaryMask> {
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    raw = await sharp(source, { failOn: 'error' }).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new LabError(`cannot read mask ${label}: ${error instanceof Error ? error.message : String(error)}`, 'ValidationError');
  }
  const { width, height, channels } = raw.info;
  // A fresh, aligned copy when sharp's buffer does not start on a 2-byte boundary.
  const bytes = raw.data.byteOffset % 2 === 0 ? raw.data : Buffer.from(raw.data);
  const grey = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  const data = new Uint8Array(width * height);
  // channels is 1, or 2 with alpha second.
  for (let p = 0; p < data.length; p++) data[p] = grey[p * channels]! > 0 ? 1 : 0;
  return { width, height, data };
}
