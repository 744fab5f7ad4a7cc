/**
 * The runs table and the Compare view in a real browser: a small demo workspace, two fast PatchCore
 * runs (random weights) launched from the form, the table (metrics, sort, filter, tags, notes,
 * config diff), then the comparison of both: the paper table, the per-defect-type table, curves,
 * and the qualitative grid; LaTeX and PNG exports checked by their contents; deletion with
 * confirmation. Screenshots of the table, the comparison and the grid go to test-artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Download, Page } from 'playwright-core';
import { artifactPath, openDemoWorkspace, type DemoSession } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let session: DemoSession;
let page: Page;
let workspace: string;

beforeAll(async () => {
  session = await openDemoWorkspace(await tmp(), 'compare-workspace', { train: 12, test: 16, size: 96 }, { width: 1500, height: 950 });
  ({ page, workspace } = session);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

async function launch(name: string): Promise<void> {
  // The form ticks scenarios (one run each): exactly nut_and_bolt.
  await page.getByTestId('launch-scenario-all').check();
  await page.getByTestId('launch-scenario-all').uncheck();
  await page.getByTestId('launch-scenario-nut_and_bolt').check();
  await page.getByTestId('launch-preset').selectOption('fast');
  await page.getByTestId('launch-backend').selectOption('wasm');
  await page.getByTestId('launch-name').fill(name);
  await page.getByTestId('launch-submit').click();
}

async function downloaded(click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [download] = (await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), click()])) as [Download, void];
  const path = await download.path();
  return { name: download.suggestedFilename(), bytes: await readFile(path) };
}

describe('runs table and compare in the browser', () => {
  it('launches two fast runs from the form and lists them with their metrics', async () => {
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('launch-form').waitFor();
    await expect.poll(async () => page.getByTestId('launch-method').inputValue()).toBe('patchcore');
    await launch('fast A');
    await page.getByTestId('run-row-1').waitFor();
    await launch('fast B');
    await page.getByTestId('run-row-2').waitFor();
    for (const id of [1, 2]) {
      await expect.poll(async () => page.getByTestId(`run-status-${id}`).textContent(), { timeout: 180_000, interval: 500 }).toBe('done');
    }
    // The table reloads when a run ends: its metrics appear.
    for (const id of [1, 2]) {
      await expect.poll(async () => Number(await page.getByTestId(`run-image_auroc-${id}`).textContent()), { timeout: 20_000 }).toBeGreaterThan(0);
      await expect(page.getByTestId(`run-row-${id}`).textContent()).resolves.toMatch(/RANDOM INIT/);
    }
  }, 400_000);

  it('sorts, filters, edits tags and notes, and shows the config diff', async () => {
    await page.getByTestId('sort-id').click(); // ascending
    const ids = async () => page.locator('[data-testid^="run-row-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
    await expect.poll(ids).toEqual(['run-row-1', 'run-row-2']);
    await page.getByTestId('sort-id').click(); // descending
    await expect.poll(ids).toEqual(['run-row-2', 'run-row-1']);

    await page.getByTestId('filter-text').fill('fast a');
    await expect.poll(ids).toEqual(['run-row-1']);
    await expect(page.getByTestId('runs-count').textContent()).resolves.toBe('1 of 2 runs');
    await page.getByTestId('filter-clear').click();
    await page.getByTestId('filter-min-image_auroc').fill('1.01');
    await expect.poll(async () => page.getByTestId('runs-none-match').isVisible()).toBe(true);
    await page.getByTestId('filter-clear').click();
    await expect.poll(ids).toEqual(['run-row-2', 'run-row-1']);

    await page.getByTestId('run-tag-add-1').click();
    await page.getByTestId('run-tag-input-1').fill('baseline, wasm');
    await page.getByTestId('run-tag-input-1').press('Enter');
    await expect.poll(async () => page.getByTestId('run-tags-1').textContent()).toMatch(/baseline.*wasm/);
    await page.getByRole('button', { name: 'Remove tag wasm from run 1' }).click();
    await expect.poll(async () => page.getByTestId('run-tags-1').textContent()).not.toMatch(/wasm/);
    await page.getByTestId('run-notes-1').click();
    await page.getByTestId('run-notes-input-1').fill('first try');
    await page.getByTestId('run-notes-input-1').press('Enter');
    await expect.poll(async () => page.getByTestId('run-notes-1').textContent()).toMatch(/first try/);
    // Saved in the workspace: a reload shows them.
    await page.getByTestId('runs-refresh').click();
    await expect.poll(async () => page.getByTestId('run-tags-1').textContent()).toMatch(/baseline/);
    await page.getByTestId('filter-text').fill('baseline');
    await expect.poll(ids).toEqual(['run-row-1']);
    await page.getByTestId('filter-clear').click();

    await page.getByTestId('run-check-1').check();
    await page.getByTestId('run-check-2').check();
    await page.getByTestId('runs-table').scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('compare-1-runs-table.png') });
    await page.getByTestId('runs-diff').click();
    await page.getByTestId('config-diff').waitFor();
    // Only the names differ, and a name is not a setting: the diff says the settings are the same.
    await page.getByTestId('config-diff-same').waitFor();
    await expect(page.locator('[data-testid="config-diff-row"]').count()).resolves.toBe(0);
    await page.getByTestId('config-diff-close').click();
    await page.getByTestId('config-diff').waitFor({ state: 'detached' });
  });

  it('compares the two runs: paper table, defect types, curves', async () => {
    await page.getByTestId('runs-compare').click();
    await page.getByTestId('compare-view').waitFor();
    await page.getByTestId('paper-table').waitFor();
    await expect(page.locator('[data-testid^="paper-row-"]').count()).resolves.toBe(2);
    const first = await page.getByTestId('paper-row-run:1').textContent();
    expect(first).toMatch(/fast A/);
    expect(first).toMatch(/RANDOM INIT/);
    // Each block's best is bold; two identical-setting runs tie, and ties are all marked.
    await expect(page.locator('[data-testid="paper-table"] td.best').count()).resolves.toBeGreaterThan(0);
    // The defect types of the compared scenarios, in Table A.1 order.
    await expect(page.locator('[data-testid="defect-row"] th').allTextContents()).resolves.toEqual(['looseness', 'bolt miss', 'nut miss']);
    await page.locator('label', { has: page.getByTestId('defects-group-factor') }).click();
    await page.getByTestId('defect-group-viewpoint').waitFor();
    await expect(page.getByTestId('defects-group-factor').isChecked()).resolves.toBe(true);
    await page.locator('label', { has: page.getByTestId('rows-by-method') }).click();
    await expect.poll(async () => page.locator('[data-testid^="paper-row-"]').count()).toBe(1);
    await page.locator('label', { has: page.getByTestId('rows-by-run') }).click();
    await expect.poll(async () => page.locator('[data-testid^="paper-row-"]').count()).toBe(2);
    await page.getByTestId('overlay-image_roc').locator('canvas').first().waitFor();
    await page.getByTestId('compare-paper').screenshot({ path: await artifactPath('compare-2-paper-table.png') });
    await page.setViewportSize({ width: 1500, height: 2600 });
    await page.screenshot({ path: await artifactPath('compare-3-view.png') });
    await page.setViewportSize({ width: 1500, height: 950 });
  });

  it('exports the paper table as LaTeX with both rows', async () => {
    const { name, bytes } = await downloaded(() => page.getByTestId('export-paper-latex').click());
    expect(name).toMatch(/\.tex$/);
    const tex = bytes.toString('utf8');
    expect(tex).toContain('\\toprule');
    expect(tex).toContain('\\bottomrule');
    expect(tex).toContain('fast A');
    expect(tex).toContain('fast B');
    const csv = (await downloaded(() => page.getByTestId('export-defects-csv').click())).bytes.toString('utf8');
    expect(csv.split(/\r?\n/).filter((l) => l.startsWith('defect,')).length).toBe(3);
  });

  it('draws the qualitative grid, moves the threshold, and exports it as PNG', async () => {
    const grid = page.getByTestId('grid-canvas');
    await grid.waitFor({ timeout: 60_000 });
    await grid.scrollIntoViewIfNeeded();
    expect(Number(await grid.getAttribute('data-runs'))).toBe(2);
    const rows = Number(await grid.getAttribute('data-rows'));
    // Two per defect type (three types) and a normal image.
    expect(rows).toBeGreaterThanOrEqual(4);
    await page.getByTestId('grid-threshold').fill('0.9');
    await page.getByTestId('grid-shared-scale').uncheck();
    await page.getByTestId('grid-shared-scale').check();
    // The area scrolls inside the frame: a tall viewport shows the whole grid in one screenshot.
    await page.setViewportSize({ width: 1500, height: 1700 });
    await grid.scrollIntoViewIfNeeded();
    await page.getByTestId('compare-grid').screenshot({ path: await artifactPath('compare-4-grid.png') });
    await page.setViewportSize({ width: 1500, height: 950 });

    const { name, bytes } = await downloaded(() => page.getByTestId('export-grid-png').click());
    expect(name).toMatch(/\.png$/);
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    const width = Number(await grid.evaluate((c: HTMLCanvasElement) => c.width));
    expect(info.width).toBe(width);
    // Not blank: the maps are coloured.
    let coloured = 0;
    for (let i = 0; i < data.length; i += info.channels) if (Math.abs(data[i]! - data[i + 2]!) > 60) coloured++;
    expect(coloured).toBeGreaterThan(1000);

    const svg = (await downloaded(() => page.getByTestId('export-grid-svg').click())).bytes.toString('utf8');
    expect(svg).toMatch(/^<svg xmlns=['"]http:\/\/www.w3.org\/2000\/svg['"]/);
    expect(svg).toContain('data:image/png;base64,');
    expect(svg).toContain('fast A');
    const chart = await downloaded(() => page.getByTestId('export-image_roc-png').click());
    expect((await sharp(chart.bytes).metadata()).format).toBe('png');
    const bars = await downloaded(() => page.getByTestId('export-bars-svg').click());
    expect(bars.bytes.toString('utf8')).toContain('fast B');
    const barsPng = await downloaded(() => page.getByTestId('export-bars-png').click());
    expect((await sharp(barsPng.bytes).metadata()).width).toBeGreaterThan(300);
  });

  it('shows rows picked by hand', async () => {
    await page.getByTestId('grid-choose').click();
    const picker = page.getByTestId('grid-picker');
    await picker.waitFor();
    const boxes = picker.locator('input[type="checkbox"]');
    expect(await boxes.count()).toBe(16);
    for (const box of await boxes.all()) if (await box.isChecked()) await box.uncheck();
    await boxes.nth(0).check();
    await boxes.nth(5).check();
    await page.getByTestId('grid-use-picks').click();
    await expect.poll(async () => page.getByTestId('grid-canvas').getAttribute('data-rows'), { timeout: 30_000 }).toBe('2');
    await page.getByTestId('grid-auto').click();
    await expect.poll(async () => Number(await page.getByTestId('grid-canvas').getAttribute('data-rows')), { timeout: 30_000 }).toBeGreaterThan(2);
  });

  it('deletes a run after confirmation, with its folder', async () => {
    await page.getByTestId('compare-back').click();
    await page.getByTestId('run-row-2').waitFor();
    expect(existsSync(join(workspace, 'runs', '2'))).toBe(true);
    await page.getByTestId('run-delete-2').click();
    await page.getByTestId('run-delete-keep-2').click();
    await expect(page.getByTestId('run-row-2').count()).resolves.toBe(1);
    await page.getByTestId('run-delete-2').click();
    await page.getByTestId('run-delete-confirm-2').click();
    await expect.poll(async () => page.getByTestId('run-row-2').count()).toBe(0);
    expect(existsSync(join(workspace, 'runs', '2'))).toBe(false);
    await expect(page.getByTestId('runs-selected-count').textContent()).resolves.toBe('1 selected');
  });
});
