/**
 * NumPy .npy reading and writing (format versions 1.0–3.0), enough for anomaly maps from any tool:
 * float16 / float32 / float64 and uint8 / bool arrays, little- or big-endian, C or Fortran order.
 *
 * Why our own: predictions from PyTorch tools arrive as np.save() files, and the reference scripts
 * read what the tests write; the format is a short header plus raw data, so a dependency buys nothing.
 */
import { float32ToHalf, halfTable } from './float16';

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

/** A 2-D float map: shape [height, width], row-major. */
export interface FloatMap {
  height: number;
  width: number;
  data: Float32Array;
}

/**
 * Reads an anomaly map: float16/float32 (float64 is accepted and rounded to float32), shape H×W
 * (singleton axes such as 1×H×W or H×W×1 are squeezed). Non-finite values are reported by the caller,
 * which knows the file name; this only decodes.
 */
export function npyToMap(arr: NpyArray): FloatMap {
  if (arr.dtype === 'uint8' || arr.dtype === 'bool') throw new NpyError(`expected float16 or float32 values, got ${arr.dtype}`);
  // Squeeze singleton axes from the outside (1×H×W, H×W×1) but keep two, so a 1×W row stays 1×W.
  const kept = arr.shape.slice();
  while (kept.length > 2 && kept[0] === 1) kept.shift();
  while (kept.length > 2 && kept[kept.length - 1] === 1) kept.pop();
  if (kept.length !== 2) throw new NpyError(`expected a 2-D map (H×W), got shape (${arr.shape.join(', ')})`);
  const [height, width] = kept as [number, number];
  let data: Float32Array;
  if (arr.dtype === 'float16') {
    const t = halfTable();
    const bits = arr.data as Uint16Array;
    data = new Float32Array(bits.length);
    for (let i = 0; i < bits.length; i++) data[i] = t[bits[i]!]!;
  } else if (arr.dtype === 'float64') {
    data = Float32Array.from(arr.data as Float64Array);
  } else {
    data = arr.data as Float32Array;
  }
  return { height, width, data };
}

/** Encodes a C-order array as a version 1.0 .npy file (little-endian). */
export function encodeNpy(data: ArrayLike<number>, shape: number[], dtype: NpyDtype): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new NpyError(`shape (${shape.join(', ')}) holds ${count} values, got ${data.length}`);
  const descr = { float16: '<f2', float32: '<f4', float64: '<f8', uint8: '|u1', bool: '|b1' }[dtype];
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad so the data starts on a 64-byte boundary, ending with a newline, as numpy does.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
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
  const out = new Uint8Array(10 + header.length + body.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}
