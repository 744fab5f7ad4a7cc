/**
 * The app's icon (resources/, made from icon.svg by scripts/make-icons.ts) and the About box's list
 * of shipped libraries. The container readers here are written from the formats, independently of
 * the script's writers, and every image is compared with a fresh render of the SVG, so an edited
 * SVG without regenerated files fails.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { ICNS_TYPES, ICO_SIZES, renderIcon } from '../../scripts/make-icons';
import { bundledLibraries } from '../../src/main/electron/licences';
import { useTmpDirs } from '../helpers/tmp';

vi.mock('electron', () => import('./fake-electron'));
const { aboutText } = await import('../../src/main/electron/dialogs');

const tmp = useTmpDirs();
const RESOURCES = resolve('resources');

/** Mean absolute difference per channel (0–255) between a PNG and the SVG rendered at its size. */
async function differenceFromSvg(png: Buffer, size: number): Promise<number> {
  const a = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  expect([a.info.width, a.info.height]).toEqual([size, size]);
  const b = await sharp(await renderIcon(size)).ensureAlpha().raw().toBuffer();
  let sum = 0;
  for (let i = 0; i < b.length; i++) sum += Math.abs(a.data[i]! - b[i]!);
  return sum / b.length;
}

describe('the app icon', () => {
  it('icon.png is the SVG at 1024 px', async () => {
    expect(await differenceFromSvg(readFileSync(join(RESOURCES, 'icon.png')), 1024)).toBeLessThan(1);
  });

  it('icon.ico holds a PNG entry per size, each the SVG at that size', async () => {
    const ico = readFileSync(join(RESOURCES, 'icon.ico'));
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2), ico.readUInt16LE(4)]).toEqual([0, 1, ICO_SIZES.length]);
    for (let i = 0; i < ICO_SIZES.length; i++) {
      const at = 6 + 16 * i;
      const side = ico.readUInt8(at) || 256;
      expect(side).toBe(ICO_SIZES[i]);
      expect(ico.readUInt16LE(at + 6)).toBe(32);
      const bytes = ico.readUInt32LE(at + 8);
      const offset = ico.readUInt32LE(at + 12);
      expect(offset + bytes).toBeLessThanOrEqual(ico.length);
      expect(await differenceFromSvg(ico.subarray(offset, offset + bytes), side)).toBeLessThan(1);
    }
  });

  it('icon.icns holds the PNG types macOS reads, each the SVG at its size, and its lengths add up', async () => {
    const icns = readFileSync(join(RESOURCES, 'icon.icns'));
    expect(icns.toString('ascii', 0, 4)).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const seen: string[] = [];
    for (let at = 8; at < icns.length; ) {
      const type = icns.toString('ascii', at, at + 4);
      const length = icns.readUInt32BE(at + 4);
      expect(length).toBeGreaterThan(8);
      const size = ICNS_TYPES.find(([t]) => t === type)?.[1];
      expect(size, `unexpected entry ${type}`).toBeDefined();
      expect(await differenceFromSvg(icns.subarray(at + 8, at + length), size!)).toBeLessThan(1);
      seen.push(type);
      at += length;
    }
    expect(seen).toEqual(ICNS_TYPES.map(([t]) => t));
  });

  it('the UI names the SVG as its favicon', () => {
    const html = readFileSync(resolve('src/renderer/index.html'), 'utf8');
    const href = /<link rel="icon" type="image\/svg\+xml" href="([^"]+)"/.exec(html)?.[1];
    expect(href).toBeDefined();
    expect(resolve('src/renderer', href!)).toBe(join(RESOURCES, 'icon.svg'));
  });
});

describe('the About box', () => {
  it('lists the installed runtime libraries with their licences, the native binaries they ship, and Electron', () => {
    const libraries = bundledLibraries(resolve('.'), '39.5.0');
    const byName = new Map(libraries.map((l) => [l.name, l]));
    expect(libraries[0]).toMatchObject({ name: 'electron', version: '39.5.0', license: 'MIT' });
    expect(byName.get('sharp')?.license).toBe('Apache-2.0');
    expect(byName.get('better-sqlite3')?.license).toBe('MIT');
    expect(byName.get('@tensorflow/tfjs-core')?.license).toBe('Apache-2.0');
    expect(byName.get('svelte')?.license).toBe('MIT');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    for (const name of Object.keys(pkg.dependencies)) expect(byName.has(name), name).toBe(true);
    // sharp's libvips is a separate binary package under its own licence (LGPL), where installed.
    const libvips = libraries.find((l) => l.name.startsWith('@img/sharp-libvips-'));
    if (libvips) expect(libvips.license).toMatch(/LGPL/);

    const text = aboutText({ name: 'MIAD Lab', version: '1.2.3', versions: { electron: '39.5.0' }, libraries });
    expect(text.message).toBe('MIAD Lab 1.2.3');
    expect(text.detail).toContain('sharp ');
    expect(text.detail).toMatch(/better-sqlite3 \S+ \(MIT\)/);
  });

  it('leaves out what is not installed and says "unknown" for a package that declares no licence', async () => {
    const root = await tmp();
    writeFileSync(join(root, 'package.json'), JSON.stringify({ dependencies: { plain: '1', gone: '1' }, optionalDependencies: { 'not-here': '1' } }));
    mkdirSync(join(root, 'node_modules', 'plain'), { recursive: true });
    writeFileSync(join(root, 'node_modules', 'plain', 'package.json'), JSON.stringify({ name: 'plain', version: '0.1.0' }));
    expect(bundledLibraries(root)).toEqual([{ name: 'plain', version: '0.1.0', license: 'unknown' }]);
  });
});
