/**
 * Decodes an image once to learn whether it is whole, keeping nothing: sharp is asked for the last
 * pixel only, in sequential reads, so libvips decodes every row to reach it while holding a few
 * rows whatever the image's size (sharp's stats() walks every pixel too but costs 15× more per
 * small image: it computes entropy and sharpness). libvips decodes on libuv's threads, off the
 * caller's thread. Headers and checksums can be right while the image data is not (a header whose
 * width was changed with its CRC, a corrupt JPEG stream); a training run would then fail on the
 * image with "libspng read error", so the importer finds it here first. Fails on decoder warnings
 * too (libjpeg's "premature end of data segment"), which a run would read as grey blocks. The
 * import's reader proves most PNGs whole without it (file-facts.ts, pixelsVerified): for a small
 * image a call here is mostly sharp's pipeline set-up (bench/import.ts: 105,000 16 × 16 PNGs
 * import 3× faster without it).
 */
import sharp from 'sharp';
import { IMPORT_MAX_PIXELS } from '../../../shared/calls/import';

export type DecodeCheck = { ok: true } | { ok: false; problem: 'corrupt-image' | 'truncated-image' | 'too-large'; detail: string };

/**
 * Decodes `path` (PNG or JPEG, `size` as its header gives it) and says why it does not decode,
 * if it does not.
 */
export async function checkDecodes(path: string, size: { width: number; height: number }): Promise<DecodeCheck> {
  try {
    await sharp(path, { failOn: 'warning', limitInputPixels: IMPORT_MAX_PIXELS, sequentialRead: true })
      .extract({ left: size.width - 1, top: size.height - 1, width: 1, height: 1 })
      .raw()
      .toBuffer();
    return { ok: true };
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
    if (/exceeds pixel limit/i.test(message)) return { ok: false, problem: 'too-large', detail: `does not decode: ${message}` };
    const truncated = /end of stream|premature end of JPEG|truncated|unexpected end/i.test(message);
    return { ok: false, problem: truncated ? 'truncated-image' : 'corrupt-image', detail: `does not decode: ${message}` };
  }
}

/**
 * Runs at most `limit` of the tasks given to it at once: decoding holds one of libuv's four
 * threads each, and the app's own file reads need the others.
 */
export function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    // A finished task hands its slot to the next waiting one directly.
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
