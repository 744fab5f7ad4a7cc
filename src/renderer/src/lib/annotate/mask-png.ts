/**
 * The editor's mask as a gray 8-bit PNG (0 / 255), encoded in the page: every row with the PNG
 * "Up" filter (a binary mask's rows barely differ, so the residuals are almost all zero) and the
 * runtime's native zlib (CompressionStream 'deflate', in Chromium and in Node alike). The result
 * is a few KB for 1024×1024 where canvas.toDataURL gives an RGBA PNG four times the raw size to
 * decode, and it is already in the form the core stores, so the core only checks it and writes
 * it (bench/mask-save.ts). Pure: no DOM.
 */
import type { Mask } from './mask-ops';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

let crcTable: Uint32Array | null = null;

function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** The filtered scanlines: per row a filter byte 2 (Up), then (pixel − pixel above) mod 256. `[height * (width + 1)]`. */
export function upFilteredRows(mask: Mask): Uint8Array {
  const { width, height, data } = mask;
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) {
    const o = y * (width + 1);
    raw[o] = 2;
    const row = y * width;
    if (y === 0) {
      for (let x = 0; x < width; x++) raw[o + 1 + x] = data[x] ? 255 : 0;
    } else {
      // 0/1 in the mask, 0/255 in the file: the difference of two rows is 0, 255 (−1) or 1.
      for (let x = 0; x < width; x++) raw[o + 1 + x] = ((data[row + x] ? 255 : 0) - (data[row - width + x] ? 255 : 0)) & 0xff;
    }
  }
  return raw;
}

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The mask as PNG bytes: 8-bit gray, 0 and 255, non-interlaced. */
export async function encodeMaskPng(mask: Mask): Promise<Uint8Array> {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, mask.width);
  view.setUint32(4, mask.height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // gray
  const idat = await deflate(upFilteredRows(mask));
  const parts = [Uint8Array.from(SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Base64 of bytes, in chunks (String.fromCharCode over megabytes would overflow the argument list). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
