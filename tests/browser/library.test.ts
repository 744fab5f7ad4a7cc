/**
 * The Library in a real browser: a small demo workspace created through the first screen, then
 * the Library area: thumbnails made on demand, a defect-type facet with live counts, multi-select,
 * the sample viewer with its mask overlay, ← / → and zoom. Screenshots go to test-artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readdir } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { artifactPath, openDemoWorkspace, type DemoSession } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let session: DemoSession;
let page: Page;
let workspace: string;

beforeAll(async () => {
  session = await openDemoWorkspace(await tmp(), 'library-workspace', { train: 6, test: 8, size: 128 }, { width: 1360, height: 860 });
  ({ page, workspace } = session);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

async function thumbsLoaded(p: Page): Promise<void> {
  await p.waitForFunction(() => {
    const tiles = [...document.querySelectorAll('[data-testid="library-tile"]')];
    const imgs = [...document.querySelectorAll<HTMLImageElement>('[data-testid="library-thumb"]')];
    return tiles.length > 0 && imgs.length === tiles.length && imgs.every((img) => img.complete && img.naturalWidth > 0);
  });
}

describe('library in the browser', () => {
  it('shows every sample of the demo with thumbnails made into <workspace>/thumbs', async () => {
    await page.getByTestId('nav-library').click();
    await page.getByTestId('library-grid').waitFor();
    // 7 scenarios × (6 train + 8 test).
    await expect.poll(async () => page.getByTestId('library-total').textContent()).toMatch(/98 samples/);
    await thumbsLoaded(page);
    const natural = await page.getByTestId('library-thumb').first().evaluate((img: HTMLImageElement) => img.naturalWidth);
    expect(natural).toBe(128); // never enlarged past the source
    const made = (await readdir(join(workspace, 'thumbs'), { recursive: true })).map(String).filter((f) => f.endsWith('.webp'));
    expect(made.length).toBeGreaterThan(20);
    // Facet counts: 7 scenarios, train 42 / test 56.
    await expect(page.locator('[data-testid="facet-value"][data-facet="scenario"]').count()).resolves.toBe(7);
    const splitTest = page.locator('[data-testid="facet-scenario"], [data-testid="facet-split"]').locator('label', { hasText: 'Test' });
    await expect(splitTest.textContent()).resolves.toMatch(/56/);
    await page.screenshot({ path: await artifactPath('library-1-grid.png') });
  });

  it('filters to one defect type; the other facets count under it', async () => {
    // The defect type with the most samples, so the viewer has neighbours to step through.
    const values = await page.locator('[data-testid="facet-label"] label').evaluateAll((els) =>
      els.map((el) => ({ value: el.querySelector('input')!.getAttribute('data-value')!, count: Number(el.querySelector('.count')!.textContent!.replace(/,/g, '')) })),
    );
    const best = values.reduce((a, b) => (b.count > a.count ? b : a));
    expect(best.count).toBeGreaterThanOrEqual(4);
    const label = best.value;
    const countText = String(best.count);
    const first = page.locator(`[data-testid="facet-value"][data-facet="label"][data-value="${label}"]`);
    await first.check();
    await expect.poll(async () => page.getByTestId('library-total').textContent()).toMatch(new RegExp(`^\\s*${countText!.trim()} samples?`));
    await thumbsLoaded(page);
    const labels = await page.getByTestId('library-tile').evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-label')));
    expect(labels.length).toBe(Number(countText));
    expect(new Set(labels)).toEqual(new Set([label]));
    // Under a defect type, "Good" has no sample left: the kind facet lists only Anomalous.
    await expect(page.locator('[data-testid="facet-value"][data-facet="kind"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-value')))).resolves.toEqual(['anomalous']);
    // Multi-select: click, ctrl-click, then select all in the filter.
    const tiles = page.getByTestId('library-tile');
    await tiles.nth(0).click();
    await tiles.nth(1).click({ modifiers: ['Control'] });
    await expect.poll(async () => page.getByTestId('library-selected-count').textContent()).toMatch(/\b2 selected/);
    // Shift-click: the range from the anchor (tile 0) to tile 3.
    await tiles.nth(0).click();
    await tiles.nth(3).click({ modifiers: ['Shift'] });
    await expect.poll(async () => page.getByTestId('library-selected-count').textContent()).toMatch(/\b4 selected/);
    await expect(tiles.evaluateAll((els) => els.map((e) => e.getAttribute('aria-selected')))).resolves.toEqual(
      labels.map((_, i) => String(i <= 3)),
    );
    await page.getByTestId('library-select-all').click();
    await expect.poll(async () => page.getByTestId('library-selected-count').textContent()).toMatch(new RegExp(`${labels.length} selected`));
    await page.screenshot({ path: await artifactPath('library-2-filtered.png') });
  });

  it('opens a sample in the viewer with its mask overlay, steps with the arrow keys, and closes', async () => {
    await page.getByTestId('library-tile').first().dblclick();
    await page.getByTestId('sample-viewer').waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid="viewer-image"]');
      const mask = document.querySelector<HTMLImageElement>('[data-testid="viewer-mask"]');
      return img?.complete && img.naturalWidth > 0 && mask?.complete && mask.naturalWidth > 0;
    });
    await expect(page.getByTestId('viewer-path').textContent()).resolves.toContain(workspace);
    await expect.poll(async () => page.getByTestId('viewer-hash').textContent()).toMatch(/[0-9a-f]{64}/);
    await page.getByTestId('viewer-mask-opacity').fill('0.8');
    await expect(page.getByTestId('viewer-mask').evaluate((el) => getComputedStyle(el).opacity)).resolves.toBe('0.8');
    await page.screenshot({ path: await artifactPath('library-3-viewer-mask.png') });

    await expect(page.getByTestId('viewer-position').textContent()).resolves.toMatch(/^1 \/ [2-9]/);
    const before = await page.getByTestId('viewer-path').textContent();
    await page.getByTestId('sample-viewer').press('ArrowRight');
    await expect.poll(async () => page.getByTestId('viewer-position').textContent()).toMatch(/^2 \//);
    await expect.poll(async () => page.getByTestId('viewer-path').textContent()).not.toBe(before);
    await page.waitForFunction(() => {
      const mask = document.querySelector<HTMLImageElement>('[data-testid="viewer-mask"]');
      return mask?.complete && mask.naturalWidth > 0;
    });
    await page.screenshot({ path: await artifactPath('library-3b-viewer-next.png') });
    await page.getByTestId('viewer-zoom-in').click();
    await page.getByTestId('viewer-zoom-in').click();
    await page.getByTestId('viewer-mask-toggle').uncheck();
    await expect(page.getByTestId('viewer-mask').count()).resolves.toBe(0);
    await page.screenshot({ path: await artifactPath('library-4-viewer-zoomed.png') });
    await page.getByTestId('sample-viewer').press('Escape');
    await expect(page.getByTestId('sample-viewer').count()).resolves.toBe(0);
    await expect(page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).resolves.toBe('library-grid');
  });

  it('keyboard: arrows move the focus, Space selects, Ctrl+A selects all, Escape clears', async () => {
    await page.getByTestId('library-clear-filters').click();
    await expect.poll(async () => page.getByTestId('library-total').textContent()).toMatch(/98 samples/);
    const grid = page.getByTestId('library-grid');
    await grid.focus();
    await grid.press('Escape');
    await grid.press('ArrowRight');
    await grid.press('Space');
    await expect.poll(async () => page.locator('[data-testid="library-tile"][data-index="1"]').getAttribute('aria-selected')).toBe('true');
    await grid.press('Control+a');
    await expect.poll(async () => page.getByTestId('library-selected-count').textContent()).toMatch(/98 selected/);
    await grid.press('Escape');
    await expect.poll(async () => page.getByTestId('library-selected-count').textContent()).not.toMatch(/selected/);
  });
});
