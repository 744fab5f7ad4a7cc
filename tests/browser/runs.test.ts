/**
 * The Runs area in a real browser: a small demo workspace made through the first screen, a fast
 * PatchCore run (random weights) launched from the form, its live progress in the list, then its
 * page: RANDOM INIT badge, metrics per defect type with Table A.1 labels, histograms, ROC / PRO
 * curves, and the gallery with heatmaps, filtered to errors; then two scenarios launched at once,
 * queued as two runs named after their scenarios. PatchCore reports no loss: no loss chart shows.
 * Screenshots go to test-artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { artifactPath, openDemoWorkspace, pickScenarios, type DemoSession } from '../helpers/browser';
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
    await pickScenarios(page, ['nut_and_bolt']);
    await expect(page.getByTestId('launch-submit').textContent()).resolves.toBe('Start run');
    await page.getByTestId('launch-preset').selectOption('fast');
    // Each value sits in an input (editable into an override) beside its source.
    const row = async (key: string) => `${await page.getByTestId(`launch-value-${key}`).inputValue()} ${await page.getByTestId(`launch-source-${key}`).textContent()}`;
    await expect(row('arch')).resolves.toBe('resnet18 ours');
    await expect(row('batchSize')).resolves.toBe('16 ours');
    await expect(row('coresetRatio')).resolves.toBe('0.1 anomalib');
    await expect(row('layers')).resolves.toBe('layer2 + layer3 anomalib');
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
    // PatchCore reports no loss: no live loss chart appeared above the table.
    await expect(page.locator('[data-testid^="live-loss-"]').count()).resolves.toBe(0);
  }, 180_000);

  it('opens the run page: header, metrics, histograms, curves', async () => {
    await page.getByTestId('run-open-1').click();
    await page.getByTestId('run-page').waitFor();
    await page.getByTestId('run-metrics').waitFor();
    await expect(page.getByTestId('run-random-init').isVisible()).resolves.toBe(true);
    await expect(page.getByTestId('run-weights').textContent()).resolves.toMatch(/random/);
    await expect(page.getByTestId('run-page-status').textContent()).resolves.toBe('done');
    await expect(page.getByTestId('run-time-total').textContent()).resolves.toMatch(/\d s|min/);
    // No stored training curves for PatchCore, and so no empty chart.
    await expect(page.getByTestId('run-training-curves').count()).resolves.toBe(0);
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
    await pickScenarios(page, ['nut_and_bolt']);
    await page.getByTestId('launch-preset').selectOption('full');
    await expect(page.getByTestId('preset-note').textContent()).resolves.toMatch(/Meant for a GPU backend/);
    await page.getByTestId('launch-name').fill('to cancel');
    await page.getByTestId('launch-submit').click();
    await page.getByTestId('run-cancel-2').click();
    await expect.poll(async () => page.getByTestId('run-status-2').textContent(), { timeout: 60_000 }).toBe('cancelled');
    await expect(page.getByTestId('run-cancel-2').count()).resolves.toBe(0);
    await expect(page.getByTestId('run-status-1').textContent()).resolves.toBe('done');
    await page.screenshot({ path: await artifactPath('runs-6-cancelled.png') });
  }, 90_000);

  it('launches two scenarios at once: two runs queued, named after their scenarios, both done', async () => {
    await pickScenarios(page, ['nut_and_bolt', 'wind_turbine']);
    await expect(page.getByTestId('launch-scenario-all').evaluate((el) => (el as HTMLInputElement).indeterminate)).resolves.toBe(true);
    await page.getByTestId('launch-preset').selectOption('fast');
    await page.getByTestId('launch-backend').selectOption('wasm');
    await page.getByTestId('launch-name').fill('pair');
    await expect(page.getByTestId('launch-submit').textContent()).resolves.toBe('Start 2 runs');
    await page.screenshot({ path: await artifactPath('runs-7-two-scenarios.png'), fullPage: true });
    await page.getByTestId('launch-submit').click();
    await page.getByTestId('run-row-3').waitFor();
    await page.getByTestId('run-row-4').waitFor();
    await expect(page.getByTestId('run-row-3').textContent()).resolves.toContain('pair · nut_and_bolt');
    await expect(page.getByTestId('run-row-4').textContent()).resolves.toContain('pair · wind_turbine');
    for (const id of [3, 4]) await expect.poll(async () => page.getByTestId(`run-status-${id}`).textContent(), { timeout: 150_000 }).toBe('done');
    await expect(page.locator('[data-testid^="live-loss-"]').count()).resolves.toBe(0);
    // The area scrolls inside the frame: bring the new rows into the shot.
    await page.getByTestId('run-row-4').scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('runs-8-two-done.png') });
  }, 240_000);

  it('draws a live loss chart from progress events that carry a loss', async () => {
    // The chart alone, fed at the edge: the page's WebSocket (wrapped before the app loads)
    // receives runs:progress messages as the server would send them, for a run id no real run has.
    // A real trained run's live loss is tests/browser/training.test.ts.
    await page.addInitScript(() => {
      const sockets: WebSocket[] = [];
      (window as unknown as { testSockets: WebSocket[] }).testSockets = sockets;
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          sockets.push(this);
        }
      };
    });
    await page.reload();
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('launch-form').waitFor();
    await page.waitForFunction(() => (window as unknown as { testSockets: WebSocket[] }).testSockets.some((s) => s.readyState === WebSocket.OPEN));
    await page.evaluate(() => {
      const socket = (window as unknown as { testSockets: WebSocket[] }).testSockets.find((s) => s.readyState === WebSocket.OPEN)!;
      for (let step = 1; step <= 120; step++) {
        const payload = { runId: 900, phase: 'train', step, total: 200, loss: 2 * Math.exp(-step / 40) + 0.1, imagesPerSec: 12.5, etaSeconds: 200 - step };
        socket.dispatchEvent(new MessageEvent('message', { data: JSON.stringify({ event: 'runs:progress', payload }) }));
      }
    });
    const panel = page.getByTestId('live-loss-900');
    await panel.waitFor();
    await expect(panel.textContent()).resolves.toContain('train 120/200');
    // uPlot drew into its canvas: some pixel is not blank.
    await expect
      .poll(async () =>
        panel.locator('canvas').evaluate((c) => {
          const canvas = c as HTMLCanvasElement;
          const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) return true;
          return false;
        }),
      )
      .toBe(true);
    await panel.scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('runs-9-live-loss.png') });
  });
});
