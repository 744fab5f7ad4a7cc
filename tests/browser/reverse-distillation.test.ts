/**
 * Reverse Distillation through the browser door, as a user meets it: the method in the launch form
 * with its three presets and their sources (MIAD's anomalib variant, the official code, the fast
 * ResNet18 pairing), backbone weights to pick (the teacher), a fast run with a few overrides to keep it
 * short, its live loss, then its page: training facts, the loss and its part per level, metrics, and
 * each test sample's input beside the three per-level 1 − cos maps and the anomaly map. Screenshots
 * go to test-artifacts/rd-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { artifactPath, openDemoWorkspace, pickScenarios, setLaunchValue, type DemoSession } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let session: DemoSession;
let page: Page;

beforeAll(async () => {
  session = await openDemoWorkspace(await tmp(), 'rd-workspace', { train: 16, test: 12, size: 96 }, { width: 1360, height: 900 });
  ({ page } = session);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

describe('Reverse Distillation in the browser', () => {
  it('offers its three presets with sourced values, teacher weights and an estimate before launch', async () => {
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('launch-form').waitFor();
    await page.getByTestId('launch-method').selectOption('reverse_distillation');
    await expect.poll(async () => page.getByTestId('launch-preset').locator('option').allTextContents(), { timeout: 30_000 }).toEqual(['paper', 'official', 'fast']);
    await page.getByTestId('launch-preset').selectOption('paper');
    await expect(page.getByTestId('launch-source-beta2').textContent()).resolves.toBe('paper A.2.1 (anomalib v0.3.7 default 0.99)');
    await expect(page.getByTestId('launch-source-loss').textContent()).resolves.toBe('anomalib v0.3.7 loss.py');
    await expect(page.getByTestId('launch-value-mapCombine').inputValue()).resolves.toBe('multiply');
    await expect(page.getByTestId('preset-note').textContent()).resolves.toMatch(/the lab never does that: 200 epochs, fixed/);
    // A teacher: the form offers backbone weights (random or a file).
    await page.getByTestId('launch-weights-random').waitFor();
    await page.getByTestId('launch-preset').selectOption('official');
    await expect(page.getByTestId('launch-value-bottleneckWidth').inputValue()).resolves.toBe('128');
    await expect(page.getByTestId('launch-source-mapCombine').textContent()).resolves.toBe("RD4AD test.py evaluation (amap_mode 'a')");
    await pickScenarios(page, ['nut_and_bolt']);
    await page.getByTestId('launch-backend').selectOption('wasm');
    await expect.poll(async () => page.getByTestId('launch-estimate').textContent(), { timeout: 30_000 }).toMatch(/Estimated: about .* of training on wasm: 140 GFLOP per image × 16 images × 200 epochs/);

    await page.getByTestId('launch-preset').selectOption('fast');
    await setLaunchValue(page, 'inputSize', '64');
    await setLaunchValue(page, 'epochs', '6');
    await setLaunchValue(page, 'batchSize', '4');
    await expect(page.getByTestId('launch-source-epochs').textContent()).resolves.toBe('override (preset: 10, ours)');
    await setLaunchValue(page, 'inputSize', '80');
    await expect.poll(async () => page.getByTestId('launch-estimate').textContent(), { timeout: 30_000 }).toMatch(/inputSize: must be a multiple of 32/);
    await setLaunchValue(page, 'inputSize', '64');
    await expect.poll(async () => page.getByTestId('launch-estimate').textContent(), { timeout: 30_000 }).toMatch(/Estimated: .*1\.16 GFLOP per image × 16 images × 6 epochs/);
    await page.screenshot({ path: await artifactPath('rd-1-launch.png'), fullPage: true });
  });

  it('trains with a live loss chart and finishes', async () => {
    await page.getByTestId('launch-submit').click();
    await page.getByTestId('run-row-1').waitFor();
    const live = page.getByTestId('live-loss-1');
    await live.waitFor({ timeout: 60_000 });
    await expect.poll(async () => (await page.getByTestId('run-progress-text-1').textContent()) ?? '', { timeout: 60_000 }).toMatch(/training ([4-9]|1\d|2[0-4])\/24/);
    await live.scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('rd-2-live-loss.png') });
    await expect.poll(async () => page.getByTestId('run-status-1').textContent(), { timeout: 180_000 }).toBe('done');
  }, 240_000);

  it('opens the run page with the training facts, the per-level loss curves, and input, per-level maps and anomaly map side by side', async () => {
    await page.getByTestId('run-open-1').click();
    await page.getByTestId('run-page').waitFor();
    await expect.poll(async () => page.getByTestId('run-page-status').textContent(), { timeout: 30_000 }).toBe('done');
    await expect(page.getByTestId('run-training-facts').textContent()).resolves.toMatch(/6 epochs · 24 steps · final loss [\d.]+ · [\d.]+ img\/s/);
    await expect(page.getByTestId('run-weights').textContent()).resolves.toMatch(/random/);
    await page.getByTestId('run-random-init').waitFor();
    await page.getByTestId('run-training-curves').waitFor();
    await expect(page.getByTestId('run-metrics').locator('tr').count()).resolves.toBeGreaterThan(2);
    const samples = page.getByTestId('run-sample');
    await expect.poll(async () => samples.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
    // Columns: input, layer1, layer2, layer3, anomaly map.
    await expect(page.getByTestId('run-samples').locator('.row.head span').allTextContents()).resolves.toEqual(['Input', 'Layer1', 'Layer2', 'Layer3', 'Anomaly map']);
    for (const level of ['layer1', 'layer2', 'layer3']) await expect(page.getByTestId(`run-sample-${level}`).count()).resolves.toBe(await samples.count());
    const rows = await samples.count();
    await expect
      .poll(async () => page.getByTestId('run-samples').evaluate((el) => [...el.querySelectorAll('figure img')].filter((i) => (i as HTMLImageElement).naturalWidth > 0).length), { timeout: 30_000 })
      .toBe(5 * rows);
    // The level pictures are heat maps, not blank: more than one colour in each.
    const colours = await page.getByTestId('run-sample-layer1').first().evaluate(async (img) => {
      const im = img as HTMLImageElement;
      const c = document.createElement('canvas');
      c.width = im.naturalWidth;
      c.height = im.naturalHeight;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(im, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 4) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      return seen.size;
    });
    expect(colours).toBeGreaterThan(20);
    await page.getByTestId('run-samples').scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('rd-3-levels.png') });
    await page.getByTestId('run-training-curves').scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('rd-4-page.png') });
  }, 120_000);
});
