/**
 * A trained method through the browser door, as a user meets it: the U-Net Auto-Encoder in the
 * launch form (no backbone weights to pick, preset values with sources, a few edited into
 * overrides, the estimated training time), a run on wasm with its live loss chart, cancelled
 * mid-training, resumed from the Runs table, then its page: training facts, the stored loss
 * curves, metrics, and input / reconstruction / anomaly map side by side. Screenshots go to
 * test-artifacts/training-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { artifactPath, openDemoWorkspace, pickScenarios, setLaunchValue, type DemoSession } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let session: DemoSession;
let page: Page;

beforeAll(async () => {
  session = await openDemoWorkspace(await tmp(), 'training-workspace', { train: 16, test: 12, size: 96 }, { width: 1360, height: 900 });
  ({ page } = session);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

describe('training a method in the browser', () => {
  it('offers the Auto-Encoder with its sourced preset, overrides and an estimate before launch', async () => {
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('launch-form').waitFor();
    await page.getByTestId('launch-method').selectOption('autoencoder');
    await page.getByTestId('launch-preset').selectOption('paper');
    await expect(page.getByTestId('launch-source-learningRate').textContent()).resolves.toBe('paper A.2.5');
    await expect(page.getByTestId('launch-source-baseWidth').textContent()).resolves.toBe('ours');
    await expect(page.getByTestId('launch-no-backbone').textContent()).resolves.toMatch(/U-Net Auto-Encoder trains from scratch/);
    await pickScenarios(page, ['nut_and_bolt']);
    await page.getByTestId('launch-backend').selectOption('wasm');
    // The paper preset on a CPU backend: hours of training at least, said before anything starts.
    await expect.poll(async () => page.getByTestId('launch-estimate').textContent(), { timeout: 30_000 }).toMatch(/Estimated: about .* of training on wasm: 241 GFLOP per image × 16 images × 100 epochs/);

    await page.getByTestId('launch-preset').selectOption('fast');
    await setLaunchValue(page, 'baseWidth', '8');
    await setLaunchValue(page, 'epochs', '40');
    await setLaunchValue(page, 'batchSize', '4');
    await expect(page.getByTestId('launch-source-epochs').textContent()).resolves.toMatch(/^override \(preset: 50, paper A.2.5\)|^override \(preset: 50, ours\)/);
    await expect.poll(async () => page.getByTestId('launch-estimate').textContent(), { timeout: 30_000 }).toMatch(/× 16 images × 40 epochs/);
    // A value the method's schema refuses is reported by the estimate, before any run exists.
    await setLaunchValue(page, 'inputSize', '40');
    await expect.poll(async () => page.getByTestId('launch-estimate').textContent(), { timeout: 30_000 }).toMatch(/inputSize: must be a multiple of 16/);
    await setLaunchValue(page, 'inputSize', '64');
    await expect.poll(async () => page.getByTestId('launch-estimate').textContent(), { timeout: 30_000 }).toMatch(/Estimated:/);
    await page.screenshot({ path: await artifactPath('training-1-launch.png'), fullPage: true });
  });

  it('trains with a live loss chart, cancels mid-run, resumes from the table and finishes', async () => {
    await page.getByTestId('launch-submit').click();
    await page.getByTestId('run-row-1').waitFor();
    const live = page.getByTestId('live-loss-1');
    await live.waitFor({ timeout: 60_000 });
    await expect.poll(async () => (await page.getByTestId('run-progress-text-1').textContent()) ?? '', { timeout: 60_000 }).toMatch(/training (1\d|[2-9]\d)\/160/);
    await live.scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('training-2-live-loss.png') });

    await page.getByTestId('run-cancel-1').click();
    await expect.poll(async () => page.getByTestId('run-status-1').textContent(), { timeout: 30_000 }).toBe('cancelled');
    // The cancel wrote a checkpoint: the row offers to resume.
    const resume = page.getByTestId('run-resume-1');
    await resume.waitFor({ timeout: 10_000 });
    await page.getByTestId('run-row-1').scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('training-3-cancelled.png') });
    await resume.click();
    await expect.poll(async () => page.getByTestId('run-status-1').textContent(), { timeout: 30_000 }).toMatch(/queued|running|done/);
    await expect.poll(async () => page.getByTestId('run-status-1').textContent(), { timeout: 180_000 }).toBe('done');
  }, 300_000);

  it("opens the run page with the training facts, the loss curves, and input, reconstruction and map side by side", async () => {
    await page.getByTestId('run-open-1').click();
    await page.getByTestId('run-page').waitFor();
    await expect.poll(async () => page.getByTestId('run-page-status').textContent(), { timeout: 30_000 }).toBe('done');
    await expect(page.getByTestId('run-training-facts').textContent()).resolves.toMatch(/40 epochs · 160 steps · final loss [\d.]+ · [\d.]+ img\/s .* resumed at step \d+/);
    await expect(page.getByTestId('run-weights').textContent()).resolves.toBe('—');
    await page.getByTestId('run-training-curves').waitFor();
    await expect(page.getByTestId('run-metrics').locator('tr').count()).resolves.toBeGreaterThan(2);
    const samples = page.getByTestId('run-sample');
    await expect.poll(async () => samples.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
    // Each row shows three decoded pictures: input, reconstruction, map.
    await expect
      .poll(async () =>
        page.getByTestId('run-samples').evaluate((el) => [...el.querySelectorAll('figure img')].filter((i) => (i as HTMLImageElement).naturalWidth > 0).length),
        { timeout: 30_000 },
      )
      .toBeGreaterThanOrEqual(12);
    await page.getByTestId('run-samples').scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('training-4-samples.png') });
    await page.getByTestId('run-training-curves').scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('training-5-page.png') });
  }, 120_000);
});
