/**
 * Annotation in a real browser: from the Library's sample viewer, open the editor, set a defect
 * type from the scenario's Table A.1 row, paint a mask stroke and save with Ctrl+S; after a page
 * reload the Library shows the new label and the edited mask, and the editor reads both back.
 * Screenshots go to test-artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readdir, readFile } from 'node:fs/promises';
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
});
