/**
 * Image dimensions without decoding: PNG from its IHDR, JPEG from its SOFn marker segment.
 *
 * The importer registers 100k+ files; decoding each just to learn its size would dominate the import.
 * From a file, only the few bytes of the headers are read (JPEG segments are walked by seeking past
 * their lengths), so a large EXIF block costs nothing.
 */
import { open } from 'node:fs/promises';
import { PngError, pngSize } from './png';

export type ImageFormat = 'png' | 'jpeg';

export interface ImageSize {
  format: ImageFormat;
  width: number;
  height: number;
}

export class ImageSizeError extends Error {
  override name = 'ImageSizeError';
}

/** SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not. */
function isSofMarker(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

/** Markers that stand alone, with no length field. */
function isStandalone(m: number): boolean {
  return m === 0x01 || (m >= 0xd0 && m <= 0xd7);
}

/**
 * Walks JPEG marker segments using `read(offset, length)` (which may return fewer bytes at the end of
 * the data) until the SOF segment; returns its size.
 */
async function jpegSizeWith(read: (offset: number, length: number) => Promise<Uint8Array>): Promise<{ width: number; height: number }> {
  let pos = 2;
  for (let guard = 0; guard < 100_000; guard++) {
    const head = await read(pos, 4);
    if (head.length < 2) throw new ImageSizeError('truncated JPEG: no frame header (SOF) before the end of the file');
    if (head[0] !== 0xff) throw new ImageSizeError(`corrupt JPEG: expected a marker at byte ${pos}`);
    const marker = head[1]!;
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    if (isStandalone(marker)) {
      pos += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) throw new ImageSizeError('corrupt JPEG: no frame header (SOF) before the scan data');
    if (head.length < 4) throw new ImageSizeError('truncated JPEG: segment header cut short');
    const length = (head[2]! << 8) | head[3]!;
    if (length < 2) throw new ImageSizeError(`corrupt JPEG: segment length ${length} at byte ${pos}`);
    if (isSofMarker(marker)) {
      const sof = await read(pos + 4, 5);
      if (sof.length < 5) throw new ImageSizeError('truncated JPEG: frame header cut short');
      const height = (sof[1]! << 8) | sof[2]!;
      const width = (sof[3]! << 8) | sof[4]!;
      if (width === 0 || height === 0) throw new ImageSizeError(`unsupported JPEG: frame size ${width}×${height}`);
      return { width, height };
    }
    pos += 2 + length;
  }
  throw new ImageSizeError('corrupt JPEG: too many segments');
}

function fromBufferReader(buf: Uint8Array) {
  return async (offset: number, length: number) => buf.subarray(offset, Math.min(buf.length, offset + length));
}

function wrap(error: unknown): never {
  if (error instanceof PngError) throw new ImageSizeError(error.message);
  throw error;
}

/** Size of a PNG or JPEG held in memory. Throws ImageSizeError for other formats or broken headers. */
export async function readImageSizeFromBuffer(buf: Uint8Array): Promise<ImageSize> {
  let png;
  try {
    png = pngSize(buf);
  } catch (error) {
    wrap(error);
  }
  if (png) return { format: 'png', ...png };
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xd8) {
    return { format: 'jpeg', ...(await jpegSizeWith(fromBufferReader(buf))) };
  }
  throw new ImageSizeError('not a PNG or JPEG file');
}

/** Size of the PNG or JPEG file at `path`, reading only its headers. */
export async function readImageSize(path: string): Promise<ImageSize> {
  const handle = await open(path, 'r');
  try {
    const read = async (offset: number, length: number) => {
      const out = Buffer.alloc(length);
      const { bytesRead } = await handle.read(out, 0, length, offset);
      return out.subarray(0, bytesRead);
    };
    const head = await read(0, 32);
    let png;
    try {
      png = pngSize(head);
    } catch (error) {
      wrap(error);
    }
    if (png) return { format: 'png', ...png };
    if (head.length >= 2 && head[0] === 0xff && head[1] === 0xd8) return { format: 'jpeg', ...(await jpegSizeWith(read)) };
    throw new ImageSizeError(`${path}: not a PNG or JPEG file`);
  } catch (error) {
    if (error instanceof ImageSizeError && !error.message.startsWith(path)) throw new ImageSizeError(`${path}: ${error.message}`);
    throw error;
  } finally {
    await handle.close();
  }
}
