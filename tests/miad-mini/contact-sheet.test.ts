import { describe, it, expect } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderContactSheet } from '../../src/main/core/datasets/miad-mini/contact-sheet';
import { decodePng, encodePng } from '../../src/main/core/image/png';

describe('MIAD-mini contact sheet', () => {
  it('writes test-artifacts/miad-mini-contact-sheet.png: one row per scenario, normal + each defect, mask outlines in red', async () => {
    const size = 160;
    const sheet = renderContactSheet({ size, seed: 0, repeats: 2 });
    // 7 rows; 4 cells (normal + up to 3 defect types) twice over, 4 px gaps.
    expect(sheet.height).toBe(7 * size + 8 * 4);
    expect(sheet.width).toBe(8 * size + 9 * 4);
    let red = 0;
    for (let i = 0; i < sheet.rgb.length; i += 3) if (sheet.rgb[i] === 255 && sheet.rgb[i + 1] === 0 && sheet.rgb[i + 2] === 0) red++;
    expect(red).toBeGreaterThan(14 * 2 * 20);
    const dir = join(process.cwd(), 'test-artifacts');
    await mkdir(dir, { recursive: true });
    const png = encodePng(sheet.rgb, sheet.width, sheet.height, 3);
    await writeFile(join(dir, 'miad-mini-contact-sheet.png'), png);
    expect(decodePng(png).width).toBe(sheet.width);
  });
});
