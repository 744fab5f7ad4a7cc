/**
 * The Runs area in a real browser: a small demo workspace made through the first screen, a fast
 * PatchCore run (random weights) launched from the form, its live progress in the list, then its
 * page: RANDOM INIT badge, metrics per defect type with Table A.1 labels, histograms, ROC / PRO
 * curves, and the gallery with heatmaps, filtered to errors. Screenshots go to test-artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { artifactPath, openDemoWorkspace, type DemoSession } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let session: DemoSession;
let page: Page;
let workspace: string;

beforeAll(async () => {
  session = await openDemoWorkspace(await tmp(), 'runs-workspace', { train: 12, test: 16, size: 96 }, { width: 1360, height: 900 });
  ({ page, workspace } = session);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

describe('runs in the browser', () => {
  it('shows the fast preset with the source of every value', async () => {
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('launch-form').waitFor();
    await expect.poll(async () => page.getByTestId('launch-method').inputValue()).toBe('patchcore');
    await page.getByTestId('launch-scenario').selectOption('nut_and_bolt');
    await page.getByTestId('launch-preset').selectOption('fast');
    const table = page.getByTestId('preset-values');
    await expect(table.locator('tr', { hasText: 'arch' }).textContent()).resolves.toMatch(/resnet18\s*ours/);
    await expect(table.locator('tr', { hasText: 'batchSize' }).textContent()).resolves.toMatch(/16\s*ours/);
    await expect(table.locator('tr', { hasText: 'coresetRatio' }).textContent()).resolves.toMatch(/0\.1\s*anomalib/);
    await expect(page.getByTestId('runs-empty').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: await artifactPath('runs-1-launch.png'), fullPage: true });
  });

  it('launches a run and shows its live progress, then done', async () => {
    // Record every progress text the list shows: a fast run may be over before a poll looks.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { progressSeen: string[] }).progressSeen = seen;
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('[data-testid^="run-progress-text-"]')) seen.push(el.textContent ?? '');
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByTestId('launch-backend').selectOption('wasm');
    await page.getByTestId('launch-submit').click();
    await page.getByTestId('run-row-1').waitFor();
    try {
      await page.locator('[data-testid="run-progress-text-1"]', { hasText: /\d+\/\d+/ }).waitFor({ timeout: 30_000 });
      await page.screenshot({ path: await artifactPath('runs-2-progress.png'), fullPage: true });
    } catch {
      // Finished before the screenshot: the recorded texts below still prove progress was shown.
    }
    await expect.poll(async () => page.getByTestId('run-status-1').textContent(), { timeout: 120_000 }).toBe('done');
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
    expect(seen.some((t) => /(embedding|scoring) \d+\/\d+/.test(t))).toBe(true);
    await expect(page.getByTestId('run-row-1').textContent()).resolves.toMatch(/RANDOM INIT/);
  }, 180_000);

  it('opens the run page: header, metrics, histograms, curves', async () => {
    await page.getByTestId('run-open-1').click();
    await page.getByTestId('run-page').waitFor();
    await page.getByTestId('run-metrics').waitFor();
    await expect(page.getByTestId('run-random-init').isVisible()).resolves.toBe(true);
    await expect(page.getByTestId('run-weights').textContent()).resolves.toMatch(/random/);
    await expect(page.getByTestId('run-page-status').textContent()).resolves.toBe('done');
    await expect(page.getByTestId('run-time-total').textContent()).resolves.toMatch(/\d s|min/);
    // Overall + the three nut_and_bolt defect types, with Table A.1 labels.
    const rows = await page.locator('[data-testid^="metric-row-"] th').allTextContents();
    expect(rows).toEqual(['Overall', 'bolt miss', 'looseness', 'nut miss']);
    const overall = await page.getByTestId('metric-row-overall').locator('td').allTextContents();
    expect(overall).toHaveLength(5);
    for (const v of overall) expect(Number(v)).toBeGreaterThan(0);
    await page.getByTestId('score-histograms').waitFor();
    await expect(page.getByTestId('score-histograms').locator('figure').count()).resolves.toBe(3);
    for (const chart of ['chart-image-roc', 'chart-pixel-roc', 'chart-pro']) {
      // The overall curve and one per defect type.
      await expect(page.getByTestId(chart).locator('path').count()).resolves.toBe(4);
    }
    // The area scrolls inside the frame: a tall viewport shows the whole page in one screenshot.
    await page.setViewportSize({ width: 1360, height: 2000 });
    await page.screenshot({ path: await artifactPath('runs-3-page.png') });
  });

  it('shows the gallery with heatmaps, sorted by score, and filters to errors', async () => {
    const gallery = page.getByTestId('run-gallery');
    await gallery.scrollIntoViewIfNeeded();
    await page.waitForFunction(() => {
      const maps = [...document.querySelectorAll<HTMLImageElement>('[data-testid="gallery-heatmap"]')];
      return maps.length > 0 && maps.length === document.querySelectorAll('[data-testid="gallery-item"]').length && maps.every((m) => m.complete && m.naturalWidth === 96);
    });
    const scores = (await gallery.locator('[data-testid="gallery-item"] .score').allTextContents()).map(Number);
    expect(scores.length).toBe(16);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(existsSync(join(workspace, 'runs', '1', 'heatmaps'))).toBe(true);
    await page.screenshot({ path: await artifactPath('runs-4-gallery.png') });

    await page.getByTestId('gallery-filter-errors').click();
    const outcomes = await gallery.locator('[data-testid="gallery-item"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome')));
    const label = await page.getByTestId('gallery-filter-errors').textContent();
    expect(label).toContain(`(${outcomes.length})`);
    for (const o of outcomes) expect(['fp', 'fn']).toContain(o);
    await page.getByTestId('gallery-filter-fp').click();
    for (const o of await gallery.locator('[data-testid="gallery-item"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome')))) expect(o).toBe('fp');
    await page.screenshot({ path: await artifactPath('runs-5-false-positives.png'), fullPage: true });
  });

  it('cancels a queued or running run from the list', async () => {
    await page.setViewportSize({ width: 1360, height: 900 });
    await page.getByTestId('run-back').click();
    await page.getByTestId('launch-form').waitFor();
    // The full preset (WideResNet50 at 224) runs long enough on these CPUs to be cancelled mid-way.
    await page.getByTestId('launch-scenario').selectOption('nut_and_bolt');
    await page.getByTestId('launch-preset').selectOption('full');
    await page.getByTestId('launch-name').fill('to cancel');
    await page.getByTestId('launch-submit').click();
    await page.getByTestId('run-cancel-2').click();
    await expect.poll(async () => page.getByTestId('run-status-2').textContent(), { timeout: 60_000 }).toBe('cancelled');
    await expect(page.getByTestId('run-cancel-2').count()).resolves.toBe(0);
    await expect(page.getByTestId('run-status-1').textContent()).resolves.toBe('done');
    await page.screenshot({ path: await artifactPath('runs-6-cancelled.png') });
  }, 90_000);
});
