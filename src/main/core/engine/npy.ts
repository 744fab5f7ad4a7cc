/**
 * NumPy `.npy` files (format version 1.0/2.0, C order, little-endian), the exchange format with the
 * Python reference scripts (scripts/parity): our inputs go to PyTorch and its features come back.
 */
import { LabError } from '../../../shared/errors';

export interface NpyArray {
  /** float32 for '<f4', float64 widened from '<f8' kept as Float64Array, uint8 for '|u1'. */
  data: Float32Array | Float64Array | Uint8Array;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Encodes a C-order array: Float32Array → '<f4', Uint8Array → '|u1'. */
export function encodeNpy(data: Float32Array | Uint8Array, shape: readonly number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new LabError(`npy: shape [${shape.join(', ')}] needs ${n} values, got ${data.length}`, 'ValidationError');
  const descr = data instanceof Float32Array ? '<f4' : '|u1';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header += ' '.repeat(total - 10 - header.length - 1) + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

/** Decodes '<f4', '<f8' and '|u1' arrays in C order; refuses anything else with the reason. */
export function decodeNpy(bytes: Uint8Array, source = 'npy'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) throw new LabError(`${source}: not a .npy file`, 'ValidationError');
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new LabError(`${source}: malformed .npy header ${JSON.stringify(header)}`, 'ValidationError');
  if (fortran === 'True') throw new LabError(`${source}: Fortran-order arrays are not supported`, 'ValidationError');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const size = { '<f4': 4, '<f8': 8, '|u1': 1 }[descr];
  if (!size) throw new LabError(`${source}: dtype ${descr} is not supported (use float32, float64 or uint8)`, 'ValidationError');
  if (bytes.length - dataStart < n * size) throw new LabError(`${source}: file is truncated`, 'ValidationError');
  const copy = bytes.slice(dataStart, dataStart + n * size).buffer;
  const data = descr === '<f4' ? new Float32Array(copy) : descr === '<f8' ? new Float64Array(copy) : new Uint8Array(copy);
  return { data, shape };
}
