/**
 * Renders the app icon's files from its one source, resources/icon.svg:
 *   resources/icon.png    1024² PNG: the window and taskbar icon on Linux, the dock icon on macOS
 *                         during development, the headless UI's favicon
 *   resources/icon.ico    Windows: PNG-compressed entries at 16, 24, 32, 48, 64, 128 and 256 px
 *   resources/icon.icns   macOS: PNG entries icp4 (16), icp5 (32), icp6 (64), ic07 (128),
 *                         ic08 (256), ic09 (512), ic10 (1024)
 * Run it after editing the SVG: `npx tsx scripts/make-icons.ts`. tests/electron/icon.test.ts reads
 * the files back and checks them against the SVG.
 *
 * The containers are small and written here rather than by a dependency: ICO is a 6-byte header,
 * one 16-byte directory entry per image and the PNGs (Vista and later read PNG entries); ICNS is
 * 'icns' + total length, then per image a 4-byte type, its length (header included) and the PNG.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const RESOURCES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'resources');
export const ICON_SVG = join(RESOURCES_DIR, 'icon.svg');
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256] as const;
export const ICNS_TYPES: readonly (readonly [string, number])[] = [
  ['icp4', 16],
  ['icp5', 32],
  ['icp6', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic09', 512],
  ['ic10', 1024],
];

/** The SVG rendered at size × size (rasterised at that size, not scaled down from a large one). */
export async function renderIcon(size: number, svg = ICON_SVG): Promise<Buffer> {
  return sharp(svg, { density: (72 * size) / 1024 })
    .resize(size, size)
    .png({ compressionLevel: 9 })
    .toBuffer();
}

export function icoFile(entries: readonly { size: number; png: Buffer }[]): Buffer {
  const header = Buffer.alloc(6 + 16 * entries.length);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // 1 = icon
  header.writeUInt16LE(entries.length, 4);
  let offset = header.length;
  entries.forEach(({ size, png }, i) => {
    const at = 6 + 16 * i;
    header.writeUInt8(size >= 256 ? 0 : size, at); // 0 means 256
    header.writeUInt8(size >= 256 ? 0 : size, at + 1);
    header.writeUInt8(0, at + 2); // no palette
    header.writeUInt8(0, at + 3);
    header.writeUInt16LE(1, at + 4); // colour planes
    header.writeUInt16LE(32, at + 6); // bits per pixel
    header.writeUInt32LE(png.length, at + 8);
    header.writeUInt32LE(offset, at + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...entries.map((e) => e.png)]);
}

export function icnsFile(entries: readonly { type: string; png: Buffer }[]): Buffer {
  const parts = entries.map(({ type, png }) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(8 + png.length, 4);
    return Buffer.concat([head, png]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(8 + parts.reduce((n, p) => n + p.length, 0), 4);
  return Buffer.concat([head, ...parts]);
}

async function main(): Promise<void> {
  const dir = RESOURCES_DIR;
  const sizes = [...new Set([...ICO_SIZES, ...ICNS_TYPES.map(([, s]) => s)])];
  const png = new Map<number, Buffer>();
  for (const s of sizes) png.set(s, await renderIcon(s));
  await writeFile(join(dir, 'icon.png'), png.get(1024)!);
  await writeFile(join(dir, 'icon.ico'), icoFile(ICO_SIZES.map((size) => ({ size, png: png.get(size)! }))));
  await writeFile(join(dir, 'icon.icns'), icnsFile(ICNS_TYPES.map(([type, size]) => ({ type, png: png.get(size)! }))));
  console.log(`wrote resources/icon.png, icon.ico (${ICO_SIZES.join(', ')} px), icon.icns (${ICNS_TYPES.map(([t, s]) => `${t} ${s}`).join(', ')})`);
}

if (process.argv[1] && /make-icons\.ts$/.test(process.argv[1])) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
