/**
 * FastFlow through the browser door, as a user meets it: the method in the launch form with its two
 * presets and their sources (MIAD A.2.3, the reference's configurations), backbone weights to pick, a
 * fast run with a few overrides to keep it short, its live loss, then its page: training facts, the
 * loss and its part per scale, metrics, and each test sample's input beside the three per-scale maps
 * and the anomaly map. Screenshots go to test-artifacts/fastflow-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { artifactPath, openDemoWorkspace, pickScenarios, setLaunchValue, type DemoSession } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let session: DemoSession;
let page: Page;

beforeAll(async () => {
  session = await openDemoWorkspace(await tmp(), 'fastflow-workspace', { train: 16, test: 12, size: 96 }, { width: 1360, height: 900 });
  ({ page } = session);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

describe('FastFlow in the browser', () => {
  it('offers its two presets with sourced values, backbone weights and an estimate before launch', async () => {
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('launch-form').waitFor();
    await page.getByTestId('launch-method').selectOption('fastflow');
    await expect.poll(async () => page.getByTestId('launch-preset').locator('option').allTextContents(), { timeout: 30_000 }).toEqual(['paper', 'fast']);
    await page.getByTestId('launch-preset').selectOption('paper');
    await expect(page.getByTestId('launch-source-weightDecay').textContent()).resolves.toBe('paper A.2.3');
    await expect(page.getByTestId('launch-source-conv3x3Only').textContent()).resolves.toBe('gathierry configs/wide_resnet50_2.yaml');
    await expect(page.getByTestId('launch-value-backbone').inputValue()).resolves.toBe('wide_resnet50_2');
    await expect(page.getByTestId('preset-note').textContent()).resolves.toMatch(/500 epochs, fixed/);
    await page.getByTestId('launch-weights-random').waitFor();
    await pickScenarios(page, ['nut_and_bolt']);
    await page.getByTestId('launch-backend').selectOption('wasm');
    await expect.poll(async () => page.getByTestId('launch-estimate').textContent(), { timeout: 30_000 }).toMatch(/Estimated: about .* of training on wasm: 169 GFLOP per image × 16 images × 500 epochs/);

    await page.getByTestId('launch-preset').selectOption('fast');
    await expect(page.getByTestId('launch-source-clamp').textContent()).resolves.toMatch(/FrEIA 1779d1f/);
    await setLaunchValue(page, 'inputSize', '40');
    await expect.poll(async () => page.getByTestId('launch-estimate').textContent(), { timeout: 30_000 }).toMatch(/inputSize: must be a multiple of 16/);
    await setLaunchValue(page, 'inputSize', '64');
    await setLaunchValue(page, 'epochs', '3');
    await setLaunchValue(page, 'batchSize', '4');
    await expect(page.getByTestId('launch-source-epochs').textContent()).resolves.toBe('override (preset: 10, ours)');
    await expect.poll(async () => page.getByTestId('launch-estimate').textContent(), { timeout: 30_000 }).toMatch(/Estimated: .* GFLOP per image × 16 images × 3 epochs/);
    await page.screenshot({ path: await artifactPath('fastflow-1-launch.png'), fullPage: true });
  });

  it('trains with a live loss chart and finishes', async () => {
    await page.getByTestId('launch-submit').click();
    await page.getByTestId('run-row-1').waitFor();
    const live = page.getByTestId('live-loss-1');
    await live.waitFor({ timeout: 60_000 });
    await expect.poll(async () => (await page.getByTestId('run-progress-text-1').textContent()) ?? '', { timeout: 120_000 }).toMatch(/training ([2-9]|1[0-2])\/12/);
    await live.scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('fastflow-2-live-loss.png') });
    await expect.poll(async () => page.getByTestId('run-status-1').textContent(), { timeout: 240_000 }).toBe('done');
  }, 300_000);

  it('opens the run page with the training facts, the per-scale loss curves, and input, per-scale maps and anomaly map side by side', async () => {
    await page.getByTestId('run-open-1').click();
    await page.getByTestId('run-page').waitFor();
    await expect.poll(async () => page.getByTestId('run-page-status').textContent(), { timeout: 30_000 }).toBe('done');
    await expect(page.getByTestId('run-training-facts').textContent()).resolves.toMatch(/3 epochs · 12 steps · final loss -?[\d.]+ · [\d.]+ img\/s/);
    await expect(page.getByTestId('run-weights').textContent()).resolves.toMatch(/random/);
    await page.getByTestId('run-training-curves').waitFor();
    await expect(page.getByTestId('run-metrics').locator('tr').count()).resolves.toBeGreaterThan(2);
    const samples = page.getByTestId('run-sample');
    await expect.poll(async () => samples.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
    await expect(page.getByTestId('run-samples').locator('.row.head span').allTextContents()).resolves.toEqual(['Input', 'Layer1', 'Layer2', 'Layer3', 'Anomaly map']);
    const rows = await samples.count();
    await expect
      .poll(async () => page.getByTestId('run-samples').evaluate((el) => [...el.querySelectorAll('figure img')].filter((i) => (i as HTMLImageElement).naturalWidth > 0).length), { timeout: 30_000 })
      .toBe(5 * rows);
    await page.getByTestId('run-samples').scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('fastflow-3-scales.png') });
    await page.getByTestId('run-training-curves').scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('fastflow-4-page.png') });
  }, 120_000);
});
