/**
 * Image decoding for the method pipelines, through sharp (PNG and JPEG, grey or RGB, with or
 * without alpha). Images are resized to the input size with sharp's default kernel, as the
 * `features` job does, so the frozen-feature cache and the methods see the same pixels. Masks are
 * read by the lab's one mask reader, image/mask.ts.
 */
import sharp from 'sharp';
import { LabError } from '../../../../shared/errors';

/**
 * One image resized to size × size (or to width × height), as 8-bit RGB.
 * @param path a file, or the file's bytes already read (the feature cache hashes them first)
 * @returns uint8 [height, width, 3]
 */
export async function loadImageBytes(
  path: string | Uint8Array,
  size: number | { width: number; height: number },
  label = typeof path === 'string' ? path : 'image',
): Promise<Uint8Array> {
  const { width, height } = typeof size === 'number' ? { width: size, height: size } : size;
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    raw = await sharp(path, { failOn: 'error' }).removeAlpha().toColourspace('srgb').resize(width, height, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new LabError(`cannot read image ${label}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (raw.info.channels !== 3) throw new LabError(`image ${label} decoded to ${raw.info.channels} channels, expected 3`);
  return new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.length);
}

/**
 * One image resized to size × size.
 * @param path a file, or the file's bytes already read (the feature cache hashes them first)
 * @returns float32 [size, size, 3] in [0, 1]
 */
export async function loadImageRgb(path: string | Uint8Array, size: number, label = typeof path === 'string' ? path : 'image'): Promise<Float32Array> {
  const bytes = await loadImageBytes(path, size, label);
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < out.length; i++) out[i] = bytes[i]! / 255;
  return out;
}
