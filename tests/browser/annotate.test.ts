/**
 * Annotation in a real browser: from the Library's sample viewer, open the editor, set a defect
 * type from the scenario's Table A.1 row, paint a mask stroke and save with Ctrl+S; after a page
 * reload the Library shows the new label and the edited mask, and the editor reads both back.
 * Then the polygon tool, zoom about the cursor and pan, a one-pixel brush click at 400 %+ that
 * must land on the intended image pixel of the saved PNG, a revert from the history panel, and a
 * bulk edit of a Library selection that the review and training facets then count.
 * Screenshots go to test-artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readdir, readFile, stat } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { decodePng } from '../../src/main/core/image/png';
import { artifactPath, openDemoWorkspace, type DemoSession } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let session: DemoSession;
let page: Page;
let workspace: string;

beforeAll(async () => {
  session = await openDemoWorkspace(await tmp(), 'annotate-workspace', { train: 2, test: 4, size: 96 }, { width: 1360, height: 860 });
  ({ page, workspace } = session);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

/** The newest mask PNG the workspace holds, decoded. */
async function newestMask() {
  const dir = join(workspace, 'masks');
  const files = (await readdir(dir, { recursive: true })).map(String).filter((f) => f.endsWith('.png'));
  const timed = await Promise.all(files.map(async (f) => ({ f, t: (await stat(join(dir, f))).mtimeMs })));
  timed.sort((a, b) => a.t - b.t || (a.f < b.f ? -1 : 1));
  return decodePng(await readFile(join(dir, timed.at(-1)!.f)));
}

async function maskPixels(): Promise<number> {
  const text = (await page.getByTestId('annotate-mask-info').textContent()) ?? '';
  return Number(text.replace(/ px.*$/s, '').replace(/,/g, ''));
}

/** The screen point over image point (x, y) of the editor's 96-px image, from the canvas's box. */
async function screenOf(x: number, y: number): Promise<{ x: number; y: number }> {
  const box = (await page.getByTestId('annotate-canvas').boundingBox())!;
  return { x: box.x + (x / 96) * box.width, y: box.y + (y / 96) * box.height };
}

async function saveNow(): Promise<void> {
  await page.getByTestId('annotate-editor').press('Control+s');
  await expect.poll(async () => page.getByTestId('annotate-status').textContent()).toMatch(/Saved/);
}

/** Library filtered to metal_welding's test images; returns the id of a good one. */
async function openWeldingTests(): Promise<string> {
  await page.getByTestId('nav-library').click();
  await page.getByTestId('library-grid').waitFor();
  await page.locator('[data-testid="facet-value"][data-facet="scenario"][data-value="metal_welding"]').check();
  await page.locator('[data-testid="facet-value"][data-facet="split"][data-value="test"]').check();
  await expect.poll(async () => page.getByTestId('library-total').textContent()).toMatch(/^\s*4 samples/);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="library-tile"][data-id]').length === 4);
  return '';
}

describe('annotation in the browser', () => {
  let sampleId = '';

  it('sets a Table A.1 defect type and paints a mask, saved with Ctrl+S', async () => {
    await openWeldingTests();
    const tiles = await page.getByTestId('library-tile').evaluateAll((els) => els.map((t) => ({ id: t.getAttribute('data-id')!, label: t.getAttribute('data-label')! })));
    const good = tiles.find((t) => t.label === 'good');
    expect(good, JSON.stringify(tiles)).toBeDefined();
    sampleId = good!.id;
    await page.locator(`[data-testid="library-tile"][data-id="${sampleId}"]`).dblclick();
    await page.getByTestId('sample-viewer').waitFor();
    await page.getByTestId('viewer-annotate').click();
    await page.getByTestId('annotate-editor').waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid="annotate-image"]');
      return img?.complete && img.naturalWidth > 0;
    });
    // Only metal_welding's Table A.1 types are offered.
    const options = await page.getByTestId('annotate-defect-type').locator('option').evaluateAll((els) => els.map((o) => (o as HTMLOptionElement).value));
    expect(options).toEqual(['', 'weld_beading', 'weld_pit']);
    // Key 2 picks the second type.
    await page.getByTestId('annotate-editor').press('2');
    await expect.poll(async () => page.getByTestId('annotate-defect-type').inputValue()).toBe('weld_pit');
    await expect(page.getByTestId('annotate-label-anomalous').isChecked()).resolves.toBe(true);

    // A horizontal stroke across the middle of the image.
    const box = (await page.getByTestId('annotate-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.55, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.up();
    await expect(page.getByTestId('annotate-status').textContent()).resolves.toMatch(/Unsaved/);
    await page.getByTestId('annotate-editor').press('Control+s');
    await expect.poll(async () => page.getByTestId('annotate-status').textContent()).toMatch(/Saved/);
    await page.screenshot({ path: await artifactPath('annotate-1-painted.png') });
    // Undo is one whole stroke; redo brings it back (and the auto-save stores it again).
    await page.getByTestId('annotate-editor').press('Control+z');
    await expect(page.getByTestId('annotate-mask-info').textContent()).resolves.toMatch(/^0 px/);
    await page.getByTestId('annotate-editor').press('Control+Shift+z');
    await expect(page.getByTestId('annotate-mask-info').textContent()).resolves.not.toMatch(/^0 px/);
    await page.getByTestId('annotate-editor').press('Control+s');
    await expect.poll(async () => page.getByTestId('annotate-status').textContent()).toMatch(/Saved/);

    const files = (await readdir(join(workspace, 'masks'), { recursive: true })).map(String).filter((f) => f.endsWith('.png'));
    expect(files.length).toBeGreaterThan(0);
    const latest = decodePng(await readFile(join(workspace, 'masks', files.sort().at(-1)!)));
    expect([latest.width, latest.height, latest.channels]).toEqual([96, 96, 1]);
    const set = latest.data.reduce((n, v) => n + (v === 255 ? 1 : 0), 0);
    expect(set).toBeGreaterThan(50);
    expect(latest.data.every((v) => v === 0 || v === 255)).toBe(true);
  });

  it('finds the defect type and the mask again after a reload', async () => {
    await page.reload();
    await page.getByTestId('app-frame').waitFor();
    await openWeldingTests();
    await expect(page.locator(`[data-testid="library-tile"][data-id="${sampleId}"]`).getAttribute('data-label')).resolves.toBe('weld_pit');
    await page.locator(`[data-testid="library-tile"][data-id="${sampleId}"]`).dblclick();
    await page.getByTestId('sample-viewer').waitFor();
    await expect.poll(async () => page.getByTestId('viewer-label').textContent()).toMatch(/weld pit/i);
    await page.waitForFunction(() => {
      const mask = document.querySelector<HTMLImageElement>('[data-testid="viewer-mask"]');
      return mask?.complete && mask.naturalWidth > 0;
    });
    await page.screenshot({ path: await artifactPath('annotate-2-viewer-after-reload.png') });
    await page.getByTestId('viewer-annotate').click();
    await page.getByTestId('annotate-editor').waitFor();
    await expect.poll(async () => page.getByTestId('annotate-mask-info').textContent()).toMatch(/^[1-9][\d,]* px · edited/);
    await expect(page.getByTestId('annotate-defect-type').inputValue()).resolves.toBe('weld_pit');
    await expect(page.getByTestId('annotate-review-state').inputValue()).resolves.toBe('labelled');
    await page.screenshot({ path: await artifactPath('annotate-3-editor-after-reload.png') });
    await page.getByTestId('annotate-editor').press('Escape');
    await expect(page.getByTestId('annotate-editor').count()).resolves.toBe(0);
  });

  it('fills polygons, zooms about the cursor, pans, and paints the pixel under the cursor at any zoom', async () => {
    await page.getByTestId('viewer-annotate').click();
    await page.getByTestId('annotate-editor').waitFor();
    await expect.poll(maskPixels).toBeGreaterThan(0);
    await page.getByTestId('annotate-clear').click();
    await expect.poll(maskPixels).toBe(0);

    // A triangle by three clicks and Enter: (20,20) (76,20) (48,76) covers about 1,568 px.
    await page.getByTestId('annotate-editor').press('p');
    for (const [x, y] of [
      [20, 20],
      [76, 20],
      [48, 76],
    ] as const) {
      const p = await screenOf(x, y);
      await page.mouse.click(p.x, p.y);
    }
    await expect(page.getByTestId('annotate-polygon').getAttribute('data-corners')).resolves.toBe('3');
    await page.screenshot({ path: await artifactPath('annotate-4-polygon-corners.png') });
    await page.getByTestId('annotate-editor').press('Enter');
    await expect(page.getByTestId('annotate-polygon').count()).resolves.toBe(0);
    const triangle = await maskPixels();
    expect(Math.abs(triangle - 1568)).toBeLessThan(80);
    // Esc cancels a polygon in progress without closing the editor or painting.
    for (const [x, y] of [
      [2, 80],
      [15, 80],
    ] as const) {
      const p = await screenOf(x, y);
      await page.mouse.click(p.x, p.y);
    }
    await page.getByTestId('annotate-editor').press('Escape');
    await expect(page.getByTestId('annotate-polygon').count()).resolves.toBe(0);
    await expect(page.getByTestId('annotate-editor').count()).resolves.toBe(1);
    expect(await maskPixels()).toBe(triangle);
    // A square closed by a double-click on its last corner: 10×10 px more.
    const corners = [
      [2, 82],
      [12, 82],
      [12, 92],
    ] as const;
    for (const [x, y] of corners) {
      const p = await screenOf(x, y);
      await page.mouse.click(p.x, p.y);
    }
    const last = await screenOf(2, 92);
    await page.mouse.dblclick(last.x, last.y);
    await expect.poll(maskPixels).toBe(triangle + 100);
    // Undo takes the square back as one step.
    await page.getByTestId('annotate-editor').press('Control+z');
    expect(await maskPixels()).toBe(triangle);
    await page.getByTestId('annotate-editor').press('Control+Shift+z');
    expect(await maskPixels()).toBe(triangle + 100);

    // Wheel zoom about the cursor: the image point under it stays under it.
    const fitZoom = Number(await page.getByTestId('annotate-stage').getAttribute('data-zoom'));
    const anchor = await screenOf(70, 30);
    await page.mouse.move(anchor.x, anchor.y);
    for (let k = 0; k < 4; k++) await page.mouse.wheel(0, -200);
    await expect.poll(async () => Number(await page.getByTestId('annotate-stage').getAttribute('data-zoom'))).toBeGreaterThan(fitZoom * 3);
    const box = (await page.getByTestId('annotate-canvas').boundingBox())!;
    expect(((anchor.x - box.x) / box.width) * 96).toBeCloseTo(70, 0);
    expect(((anchor.y - box.y) / box.height) * 96).toBeCloseTo(30, 0);

    // Space+drag pans by the drag; the mask does not change.
    const before = (await page.getByTestId('annotate-canvas').boundingBox())!;
    await page.keyboard.down('Space');
    await page.mouse.move(anchor.x, anchor.y);
    await page.mouse.down();
    await page.mouse.move(anchor.x - 120, anchor.y + 40, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up('Space');
    const after = (await page.getByTestId('annotate-canvas').boundingBox())!;
    expect(after.x - before.x).toBeCloseTo(-120, 0);
    expect(after.y - before.y).toBeCloseTo(40, 0);
    expect(await maskPixels()).toBe(triangle + 100);
    // Middle-drag pans too.
    await page.mouse.move(anchor.x - 120, anchor.y + 40);
    await page.mouse.down({ button: 'middle' });
    await page.mouse.move(anchor.x - 100, anchor.y + 40, { steps: 2 });
    await page.mouse.up({ button: 'middle' });
    const middle = (await page.getByTestId('annotate-canvas').boundingBox())!;
    expect(middle.x - after.x).toBeCloseTo(20, 0);

    // A 1-px brush click at this zoom sets exactly the image pixel under the cursor.
    await page.getByTestId('annotate-editor').press('b');
    await page.getByTestId('annotate-brush-size').fill('1');
    const zoom = Number(await page.getByTestId('annotate-stage').getAttribute('data-zoom'));
    expect(zoom).toBeGreaterThan(4);
    const target = await screenOf(81.5, 40.5);
    await page.mouse.click(target.x, target.y);
    expect(await maskPixels()).toBe(triangle + 101);
    await page.screenshot({ path: await artifactPath('annotate-5-zoomed-pixel.png') });
    await saveNow();
    const saved = await newestMask();
    expect(saved.data[40 * 96 + 81]).toBe(255);
    for (const [x, y] of [
      [80, 40],
      [82, 40],
      [81, 39],
      [81, 41],
    ] as const) {
      expect(saved.data[y * 96 + x], `${x},${y}`).toBe(0);
    }

    // Fit brings the whole image back; 1:1 is 100 %.
    await page.getByTestId('annotate-actual').click();
    await expect(page.getByTestId('annotate-zoom').textContent()).resolves.toBe('100%');
    await page.getByTestId('annotate-fit').click();
    await expect.poll(async () => Number(await page.getByTestId('annotate-stage').getAttribute('data-zoom'))).toBeCloseTo(fitZoom, 5);
  });

  it('lists the history and reverts one entry', async () => {
    const entries = page.getByTestId('annotate-history-entry');
    await expect.poll(async () => entries.count()).toBeGreaterThan(2);
    const texts = await entries.allTextContents();
    // The first edit of the first test set the defect type by key 2.
    const index = texts.findIndex((t) => /defect type: — → weld pit/.test(t));
    expect(index, texts.join('\n')).toBeGreaterThanOrEqual(0);
    const revertedId = await entries.nth(index).getAttribute('data-id');
    const count = texts.length;
    await entries.nth(index).getByTestId('annotate-revert').click();
    await expect.poll(async () => page.getByTestId('annotate-defect-type').inputValue()).toBe('');
    await expect(page.getByTestId('annotate-label-good').isChecked()).resolves.toBe(true);
    await expect.poll(async () => entries.count()).toBe(count + 1);
    await expect(entries.first().textContent()).resolves.toContain(`Revert of #${revertedId}`);
    // The mask is untouched by reverting a field edit.
    expect(await maskPixels()).toBeGreaterThan(1500);
    await page.screenshot({ path: await artifactPath('annotate-6-history-reverted.png') });
    await page.getByTestId('annotate-editor').press('Escape');
    await expect(page.getByTestId('annotate-editor').count()).resolves.toBe(0);
    await page.getByTestId('sample-viewer').press('Escape');
    await expect(page.getByTestId('sample-viewer').count()).resolves.toBe(0);
    // Back in the grid, the tile shows the reverted label without a manual refresh.
    await expect.poll(async () => page.locator(`[data-testid="library-tile"][data-id="${sampleId}"]`).getAttribute('data-label')).toBe('good');
  });

  it('bulk edits a Library selection, confirmed with its count; the review and training facets follow', async () => {
    await page.getByTestId('library-select-all').click();
    await expect(page.getByTestId('library-selected-count').textContent()).resolves.toMatch(/4\s+selected/);
    await page.getByTestId('library-bulk-edit').click();
    await page.getByTestId('library-bulk').waitFor();
    // Every selected sample is a metal welding one: its two Table A.1 types are offered.
    await expect
      .poll(async () => page.getByTestId('bulk-defect-type').locator('option').evaluateAll((els) => els.map((o) => (o as HTMLOptionElement).value)))
      .toEqual(['', '__none__', 'weld_beading', 'weld_pit']);
    await page.getByTestId('bulk-review-state').selectOption('reviewed');
    await page.getByTestId('bulk-training').selectOption('exclude');
    await page.getByTestId('bulk-apply').click();
    await expect(page.getByTestId('bulk-confirm-text').textContent()).resolves.toBe('Set review to reviewed and exclude from training on 4 samples?');
    await page.screenshot({ path: await artifactPath('annotate-7-bulk-confirm.png') });
    await page.getByTestId('bulk-confirm').click();
    await expect.poll(async () => page.getByTestId('bulk-result').textContent()).toMatch(/4 changed, 0 already so; training flag: 4 changed/);
    const facetCount = (facet: string, value: string) =>
      page.locator(`label:has([data-testid="facet-value"][data-facet="${facet}"][data-value="${value}"]) .count`).textContent();
    await expect.poll(async () => facetCount('review', 'reviewed')).toBe('4');
    await expect.poll(async () => facetCount('training', 'excluded')).toBe('4');
    // Ticking "excluded" keeps exactly the 4 samples.
    await page.locator('[data-testid="facet-value"][data-facet="training"][data-value="excluded"]').check();
    await expect.poll(async () => page.getByTestId('library-total').textContent()).toMatch(/^\s*4 samples/);
    await page.screenshot({ path: await artifactPath('annotate-8-bulk-facets.png') });
    // The editor shows the flag on one of them.
    await page.locator(`[data-testid="library-tile"][data-id="${sampleId}"]`).dblclick();
    await page.getByTestId('viewer-annotate').click();
    await expect.poll(async () => page.getByTestId('annotate-training').textContent()).toMatch(/excluded/);
    await expect(page.getByTestId('annotate-review-state').inputValue()).resolves.toBe('reviewed');
  });
});
