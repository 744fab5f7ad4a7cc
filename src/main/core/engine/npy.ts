/**
 * NumPy `.npy` files, the one reader and writer of the lab (format versions 1.0–3.0): float16 /
 * float32 / float64 and uint8 / bool arrays, little- or big-endian, C or Fortran order. They are
 * the exchange format with the Python references (scripts/parity: our inputs go to PyTorch, its
 * outputs come back), the features job's output, and the anomaly maps other tools hand to
 * `evaluate` (evaluation/npy.ts reads those as maps).
 *
 * Why our own: the format is a short header plus raw data, so a dependency buys nothing.
 */
import { LabError } from '../../../shared/errors';
import { float32ToHalf, halfTable } from '../evaluation/float16';

export class NpyError extends Error {
  override name = 'NpyError';
}

export type NpyDtype = 'float16' | 'float32' | 'float64' | 'uint8' | 'bool';

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** C-order data: float16 as Uint16Array bit patterns, bool as Uint8Array of 0/1. */
  data: Uint16Array | Float32Array | Float64Array | Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<string, { dtype: NpyDtype; size: number }> = {
  f2: { dtype: 'float16', size: 2 },
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
  u1: { dtype: 'uint8', size: 1 },
  b1: { dtype: 'bool', size: 1 },
};

/** Parses a whole .npy file. Throws NpyError saying what is wrong with a malformed one. */
export function parseNpy(buf: Uint8Array): NpyArray {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) throw new NpyError('not a .npy file (bad magic)');
  const major = buf[6]!;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new NpyError('truncated .npy header');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new NpyError(`unsupported .npy format version ${major}.${buf[7]}`);
  }
  if (start + headerLen > buf.length) throw new NpyError('truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(start, start + headerLen));
  const descrMatch = /'descr'\s*:\s*'([<>|=])([a-z]\d+)'/.exec(header);
  const fortranMatch = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descrMatch || !fortranMatch || !shapeMatch) throw new NpyError(`malformed .npy header: ${header.trim()}`);
  const kind = DESCR[descrMatch[2]!];
  if (!kind) throw new NpyError(`unsupported dtype '${descrMatch[1]}${descrMatch[2]}' (expected float16, float32, float64, uint8 or bool)`);
  const bigEndian = descrMatch[1] === '>';
  const shape = shapeMatch[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d+$/.test(s)) throw new NpyError(`malformed .npy shape (${shapeMatch[1]})`);
      return Number.parseInt(s, 10);
    });
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const bytes = count * kind.size;
  if (buf.length - dataStart < bytes) {
    throw new NpyError(`truncated .npy data: ${buf.length - dataStart} bytes for ${shape.join('×')} ${kind.dtype} (${bytes} needed)`);
  }
  // Copy into an aligned buffer of its own (Buffer#slice would share the file's); swap bytes when big-endian.
  const raw = new Uint8Array(bytes);
  raw.set(buf.subarray(dataStart, dataStart + bytes));
  if (bigEndian && kind.size > 1) {
    for (let i = 0; i < raw.length; i += kind.size) raw.subarray(i, i + kind.size).reverse();
  }
  let data: NpyArray['data'];
  switch (kind.dtype) {
    case 'float16':
      data = new Uint16Array(raw.buffer, 0, count);
      break;
    case 'float32':
      data = new Float32Array(raw.buffer, 0, count);
      break;
    case 'float64':
      data = new Float64Array(raw.buffer, 0, count);
      break;
    default:
      data = raw;
  }
  if (fortranMatch[1] === 'True' && shape.length > 1) data = fortranToC(data, shape);
  return { dtype: kind.dtype, shape, data };
}

function fortranToC<T extends NpyArray['data']>(data: T, shape: number[]): T {
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const nd = shape.length;
  const cStrides = new Array<number>(nd);
  const fStrides = new Array<number>(nd);
  let c = 1;
  let f = 1;
  for (let d = nd - 1; d >= 0; d--) {
    cStrides[d] = c;
    c *= shape[d]!;
  }
  for (let d = 0; d < nd; d++) {
    fStrides[d] = f;
    f *= shape[d]!;
  }
  const idx = new Array<number>(nd).fill(0);
  for (let i = 0; i < data.length; i++) {
    let src = 0;
    for (let d = 0; d < nd; d++) src += idx[d]! * fStrides[d]!;
    out[i] = data[src]!;
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * The version 1.0 header of a C-order little-endian array, padded (as numpy pads it) so the data
 * starts on a 64-byte boundary. Written alone by the features job, which streams the data after it.
 */
export function npyHeader(shape: readonly number[], dtype: NpyDtype): Uint8Array {
  const descr = { float16: '<f2', float32: '<f4', float64: '<f8', uint8: '|u1', bool: '|b1' }[dtype];
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}

/**
 * Encodes a C-order array as a version 1.0 .npy file (little-endian). Without `dtype` the typed
 * array says it: Float32Array → float32, Float64Array → float64, Uint8Array → uint8.
 */
export function encodeNpy(data: ArrayLike<number>, shape: readonly number[], dtype: NpyDtype = inferDtype(data)): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new NpyError(`shape (${shape.join(', ')}) holds ${count} values, got ${data.length}`);
  let body: Uint8Array;
  switch (dtype) {
    case 'float16':
      body = new Uint8Array(float32ToHalf(data).buffer);
      break;
    case 'float32':
      body = new Uint8Array(Float32Array.from(data).buffer);
      break;
    case 'float64':
      body = new Uint8Array(Float64Array.from(data).buffer);
      break;
    default:
      body = Uint8Array.from(data, (v) => (dtype === 'bool' ? (v ? 1 : 0) : v));
  }
  const header = npyHeader(shape, dtype);
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

function inferDtype(data: ArrayLike<number>): NpyDtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Uint8Array) return 'uint8';
  throw new NpyError('encodeNpy: give the dtype for a plain array');
}

/**
 * The strict reader of the tensor side (parity tests, feature files): float32, float64 and uint8
 * as they are, float16 widened to float32; anything malformed is a ValidationError naming `source`.
 */
export function decodeNpy(bytes: Uint8Array, source = 'npy'): { data: Float32Array | Float64Array | Uint8Array; shape: number[] } {
  let arr: NpyArray;
  try {
    arr = parseNpy(bytes);
  } catch (error) {
    if (error instanceof NpyError) throw new LabError(`${source}: ${error.message}`, 'ValidationError');
    throw error;
  }
  if (arr.dtype === 'float16') {
    const t = halfTable();
    const bits = arr.data as Uint16Array;
    return { data: Float32Array.from(bits, (b) => t[b]!), shape: arr.shape };
  }
  return { data: arr.data as Float32Array | Float64Array | Uint8Array, shape: arr.shape };
}
