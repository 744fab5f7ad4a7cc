/**
 * A small PNG codec in plain TypeScript over node:zlib.
 *
 * The encoder writes 8-bit grayscale and RGB (what MIAD-mini images and masks need). Its output is
 * a pure function of the pixels and the options: fixed zlib parameters and a deterministic filter
 * choice, so identical pixels always give byte-identical files (the generator's determinism tests and
 * content hashes rely on it).
 *
 * The decoder reads what we write and ordinary non-interlaced 8-bit PNGs (gray, gray+alpha, RGB,
 * RGBA). Anything else, and any truncated or corrupt file (bad signature, CRC mismatch, short image
 * data), is refused with a PngError that says what is wrong, so an importer can report the file and
 * carry on.
 */
import { deflateSync, inflateSync, constants as zc } from 'node:zlib';
import * as zlib from 'node:zlib';

export class PngError extends Error {
  override name = 'PngError';
}

/** Channels per pixel: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. */
export type PngChannels = 1 | 2 | 3 | 4;

/** A decoded image: `data` is row-major, interleaved, length `width * height * channels`. */
export interface RasterImage {
  width: number;
  height: number;
  channels: PngChannels;
  data: Uint8Array;
}

export interface PngEncodeOptions {
  /** zlib level 0..9; default 6 (the size/speed balance libpng uses). */
  level?: number;
  /**
   * Row filter: a fixed PNG filter type 0..4 for every row, or 'adaptive' (default): per row, the
   * filter with the smallest sum of absolute signed residuals (the libpng heuristic). Either way the
   * choice depends only on the pixels.
   */
  filter?: 'adaptive' | 0 | 1 | 2 | 3 | 4;
}

const SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);

// --- CRC-32 (ISO 3309), as PNG chunks use it -------------------------------------------------------

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

// node:zlib has a native crc32 from Node 20.15 / 22.2; keep the table as the fallback.
const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of `bytes` (continuing from `crc`, 0 to start). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (nativeCrc32) return nativeCrc32(bytes, crc) >>> 0;
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// --- encoder -------------------------------------------------------------------------------------

/** One PNG chunk: length, type, data, CRC of type and data. */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Writes filter type `f` of row `cur` (previous row `prev`, zeros for the first) into `out` at
 * offset 1, with out[0] = f; returns the sum of |signed residual| used by the adaptive heuristic.
 * One loop per filter type: a switch inside the byte loop costs more than the filtering itself.
 */
function filterRow(f: number, cur: Uint8Array, prev: Uint8Array, bpp: number, out: Uint8Array): number {
  const n = cur.length;
  out[0] = f;
  let sum = 0;
  let v = 0;
  if (f === 0) {
    for (let i = 0; i < n; i++) {
      v = cur[i]!;
      out[i + 1] = v;
      sum += v < 128 ? v : 256 - v;
    }
  } else if (f === 1) {
    for (let i = 0; i < n; i++) {
      v = (cur[i]! - (i >= bpp ? cur[i - bpp]! : 0)) & 0xff;
      out[i + 1] = v;
      sum += v < 128 ? v : 256 - v;
    }
  } else if (f === 2) {
    for (let i = 0; i < n; i++) {
      v = (cur[i]! - prev[i]!) & 0xff;
      out[i + 1] = v;
      sum += v < 128 ? v : 256 - v;
    }
  } else if (f === 3) {
    for (let i = 0; i < n; i++) {
      v = (cur[i]! - (((i >= bpp ? cur[i - bpp]! : 0) + prev[i]!) >> 1)) & 0xff;
      out[i + 1] = v;
      sum += v < 128 ? v : 256 - v;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const a = i >= bpp ? cur[i - bpp]! : 0;
      const b = prev[i]!;
      const c = i >= bpp ? prev[i - bpp]! : 0;
      const p = a + b - c;
      const pa = p > a ? p - a : a - p;
      const pb = p > b ? p - b : b - p;
      const pc = p > c ? p - c : c - p;
      const pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      v = (cur[i]! - pred) & 0xff;
      out[i + 1] = v;
      sum += v < 128 ? v : 256 - v;
    }
  }
  return sum;
}

/**
 * Encodes an 8-bit grayscale (channels 1) or RGB (channels 3) image.
 * `pixels`: Uint8Array of length width * height * channels, row-major, interleaved.
 */
export function encodePng(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3,
  options: PngEncodeOptions = {},
): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new PngError(`cannot encode a ${width}×${height} image`);
  }
  if (channels !== 1 && channels !== 3) throw new PngError(`the encoder writes 1 or 3 channels, not ${channels}`);
  const stride = width * channels;
  if (pixels.length !== stride * height) {
    throw new PngError(`pixel buffer has ${pixels.length} bytes, expected ${stride * height} for ${width}×${height}×${channels}`);
  }
  const level = options.level ?? 6;
  const filter = options.filter ?? 'adaptive';
  const raw = new Uint8Array((stride + 1) * height);
  const zero = new Uint8Array(stride);
  const scratch = filter === 'adaptive' ? new Uint8Array(stride + 1) : null;
  for (let y = 0; y < height; y++) {
    const cur = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : zero;
    const dst = raw.subarray(y * (stride + 1), (y + 1) * (stride + 1));
    if (scratch === null) {
      filterRow(filter as number, cur, prev, channels, dst);
      continue;
    }
    // Adaptive: keep the best candidate in dst, try the others in scratch; ties go to the lower type.
    let best = filterRow(0, cur, prev, channels, dst);
    for (let f = 1; f <= 4 && best > 0; f++) {
      const s = filterRow(f, cur, prev, channels, scratch);
      if (s < best) {
        best = s;
        dst.set(scratch);
      }
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : 2; // colour type: gray / truecolour
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  const idat = deflateSync(raw, { level, memLevel: 8, windowBits: 15, strategy: zc.Z_DEFAULT_STRATEGY });
  return Buffer.concat([SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', new Uint8Array(0))]);
}

// --- decoder -------------------------------------------------------------------------------------

const CHANNELS_BY_COLOUR_TYPE: Record<number, PngChannels> = { 0: 1, 2: 3, 4: 2, 6: 4 };

function isPngSignature(buf: Uint8Array): boolean {
  if (buf.length < 8) return false;
  for (let i = 0; i < 8; i++) if (buf[i] !== SIGNATURE[i]) return false;
  return true;
}

interface Ihdr {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  interlace: number;
}

function parseIhdr(view: DataView, offset: number): Ihdr {
  return {
    width: view.getUint32(offset),
    height: view.getUint32(offset + 4),
    bitDepth: view.getUint8(offset + 8),
    colourType: view.getUint8(offset + 9),
    interlace: view.getUint8(offset + 12),
  };
}

/** Decodes a non-interlaced 8-bit gray / gray+alpha / RGB / RGBA PNG; throws PngError otherwise. */
export function decodePng(buf: Uint8Array): RasterImage {
  if (!isPngSignature(buf)) throw new PngError('not a PNG file (bad signature)');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 8;
  let ihdr: Ihdr | null = null;
  const idat: Uint8Array[] = [];
  let sawEnd = false;
  while (pos < buf.length) {
    if (pos + 8 > buf.length) throw new PngError(`truncated PNG: chunk header cut at byte ${pos}`);
    const length = view.getUint32(pos);
    const type = String.fromCharCode(buf[pos + 4]!, buf[pos + 5]!, buf[pos + 6]!, buf[pos + 7]!);
    if (length > 0x7fffffff) throw new PngError(`corrupt PNG: chunk ${JSON.stringify(type)} claims ${length} bytes`);
    if (pos + 12 + length > buf.length) throw new PngError(`truncated PNG: chunk ${JSON.stringify(type)} runs past the end of the file`);
    const stored = view.getUint32(pos + 8 + length);
    const actual = crc32(buf.subarray(pos + 4, pos + 8 + length));
    if (stored !== actual) throw new PngError(`corrupt PNG: CRC mismatch in chunk ${JSON.stringify(type)}`);
    const data = buf.subarray(pos + 8, pos + 8 + length);
    if (type === 'IHDR') {
      // A second IHDR could claim another size than the one a caller checked with pngSize().
      if (ihdr !== null) throw new PngError('corrupt PNG: more than one IHDR chunk');
      if (length !== 13) throw new PngError('corrupt PNG: IHDR is not 13 bytes');
      ihdr = parseIhdr(view, pos + 8);
    } else if (type === 'IDAT') {
      if (ihdr === null) throw new PngError('corrupt PNG: IDAT before IHDR');
      idat.push(data);
    } else if (type === 'IEND') {
      sawEnd = true;
      break;
    } else if (type === 'PLTE' && ihdr?.colourType !== 3) {
      // A suggested palette on a truecolour image: harmless, ignore.
    } else if ((buf[pos + 4]! & 0x20) === 0) {
      // Upper-case first letter: a critical chunk we do not understand.
      throw new PngError(`unsupported PNG: unknown critical chunk ${JSON.stringify(type)}`);
    }
    pos += 12 + length;
  }
  if (ihdr === null) throw new PngError('corrupt PNG: no IHDR chunk');
  if (!sawEnd) throw new PngError('truncated PNG: no IEND chunk');
  const { width, height, bitDepth, colourType, interlace } = ihdr;
  const channels = CHANNELS_BY_COLOUR_TYPE[colourType];
  if (channels === undefined) {
    throw new PngError(`unsupported PNG: colour type ${colourType}${colourType === 3 ? ' (palette)' : ''}; only 8-bit gray, gray+alpha, RGB and RGBA are read`);
  }
  if (bitDepth !== 8) throw new PngError(`unsupported PNG: bit depth ${bitDepth}; only 8-bit images are read`);
  if (interlace !== 0) throw new PngError('unsupported PNG: interlaced (Adam7) images are not read');
  if (width === 0 || height === 0) throw new PngError(`corrupt PNG: size ${width}×${height}`);
  if (idat.length === 0) throw new PngError('corrupt PNG: no image data (IDAT)');
  const stride = width * channels;
  const expected = (stride + 1) * height;
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new PngError(`corrupt PNG: image data does not inflate (${detail})`);
  }
  if (raw.length < expected) throw new PngError(`truncated PNG: image data has ${raw.length} bytes, expected ${expected}`);
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) unfilterRow(raw, y * (stride + 1), out, y * stride, stride, channels, y);
  return { width, height, channels, data: out };
}

/**
 * Reverses row `y`'s filter: `raw[at]` is the filter type, `raw[at + 1 ..]` the filtered bytes;
 * the row is written to `out[dst ..]`, the row above it being `out[dst - stride ..]`. One loop per
 * filter type, as in the encoder: a switch inside the byte loop costs several times the work (a
 * 1024×1024 mask decoded in a third of the time; bench/mask-save.ts). Bytes wrap by the
 * Uint8Array store.
 */
function unfilterRow(raw: Uint8Array, at: number, out: Uint8Array, dst: number, stride: number, bpp: number, y: number): void {
  const f = raw[at]!;
  const src = at + 1;
  const up = dst - stride;
  const first = y === 0;
  if (f === 0 || (f === 2 && first)) {
    out.set(raw.subarray(src, src + stride), dst);
  } else if (f === 1 || (f === 4 && first)) {
    // Paeth with no row above predicts the left byte, as Sub does.
    for (let i = 0; i < bpp; i++) out[dst + i] = raw[src + i]!;
    for (let i = bpp; i < stride; i++) out[dst + i] = raw[src + i]! + out[dst + i - bpp]!;
  } else if (f === 2) {
    for (let i = 0; i < stride; i++) out[dst + i] = raw[src + i]! + out[up + i]!;
  } else if (f === 3) {
    if (first) {
      for (let i = 0; i < bpp; i++) out[dst + i] = raw[src + i]!;
      for (let i = bpp; i < stride; i++) out[dst + i] = raw[src + i]! + (out[dst + i - bpp]! >> 1);
    } else {
      for (let i = 0; i < bpp; i++) out[dst + i] = raw[src + i]! + (out[up + i]! >> 1);
      for (let i = bpp; i < stride; i++) out[dst + i] = raw[src + i]! + ((out[dst + i - bpp]! + out[up + i]!) >> 1);
    }
  } else if (f === 4) {
    for (let i = 0; i < bpp; i++) out[dst + i] = raw[src + i]! + out[up + i]!;
    for (let i = bpp; i < stride; i++) {
      const a = out[dst + i - bpp]!;
      const b = out[up + i]!;
      const c = out[up + i - bpp]!;
      const p = a + b - c;
      const pa = p > a ? p - a : a - p;
      const pb = p > b ? p - b : b - p;
      const pc = p > c ? p - c : c - p;
      out[dst + i] = raw[src + i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
    }
  } else {
    throw new PngError(`corrupt PNG: unknown filter type ${f} on row ${y}`);
  }
}

/** Width and height from a PNG's IHDR, without decoding; null when `buf` is not a PNG. */
export function pngSize(buf: Uint8Array): { width: number; height: number } | null {
  if (!isPngSignature(buf)) return null;
  if (buf.length < 24) throw new PngError('truncated PNG: no IHDR');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const type = String.fromCharCode(buf[12]!, buf[13]!, buf[14]!, buf[15]!);
  if (type !== 'IHDR') throw new PngError('corrupt PNG: first chunk is not IHDR');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
