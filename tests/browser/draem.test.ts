/**
 * DRAEM through the browser door, as a user meets it: the method in the launch form with its two
 * presets and their sources, the paper preset's cost said before launch (a multi-day job), the grid
 * of synthesised training samples (normal image, augmented texture, network input, mask) for the
 * chosen scenario and overrides, then a short fast run with its live losses, and its page: training
 * facts, the three loss parts, metrics, and each test sample's input, reconstruction and anomaly map.
 * Screenshots go to test-artifacts/draem-*.png. The run is short (64 px, widths 8 / 8, 20 steps): this
 * checks the door, not the detection (tests/draem/train-cli.test.ts does).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { artifactPath, openDemoWorkspace, pickScenarios, setLaunchValue, type DemoSession } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let session: DemoSession;
let page: Page;

beforeAll(async () => {
  session = await openDemoWorkspace(await tmp(), 'draem-workspace', { train: 16, test: 8, size: 64 }, { width: 1360, height: 900 });
  ({ page } = session);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

/** Distinct colours of a decoded <img> (1 for a blank picture). */
async function colours(selector: ReturnType<Page['getByTestId']>): Promise<number> {
  return selector.evaluate((img) => {
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
}

describe('DRAEM in the browser', () => {
  it('offers its presets with sources and says before launch that the paper preset is a multi-day job', async () => {
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('launch-form').waitFor();
    await page.getByTestId('launch-method').selectOption('draem');
    await expect.poll(async () => page.getByTestId('launch-preset').locator('option').allTextContents(), { timeout: 30_000 }).toEqual(['paper', 'fast']);
    await page.getByTestId('launch-preset').selectOption('paper');
    await expect(page.getByTestId('launch-source-epochs').textContent()).resolves.toBe('paper A.2.4');
    await expect(page.getByTestId('launch-source-rotateNormalDegrees').textContent()).resolves.toBe('paper A.2.4 (the DRAEM code rotates by ±90)');
    await expect(page.getByTestId('launch-source-betaMax').textContent()).resolves.toBe('DRAEM code data_loader.py');
    await expect(page.getByTestId('preset-note').textContent()).resolves.toMatch(/a multi-day GPU job/);
    await pickScenarios(page, ['wind_turbine']);
    await page.getByTestId('launch-backend').selectOption('wasm');
    await expect.poll(async () => page.getByTestId('launch-estimate').textContent(), { timeout: 30_000 }).toMatch(/Estimated: about \d+ days of training on wasm: 1\.19e\+3 GFLOP per image × 16 images × 700 epochs/);
  });

  it('shows a grid of synthesised training samples with their masks for the chosen settings', async () => {
    await page.getByTestId('launch-preset').selectOption('fast');
    await setLaunchValue(page, 'inputSize', '64');
    await setLaunchValue(page, 'anomalyProbability', '1');
    await page.getByTestId('synthesis-preview-button').click();
    const samples = page.getByTestId('synthesis-sample');
    await expect.poll(async () => samples.count(), { timeout: 30_000 }).toBe(8);
    await expect(page.getByTestId('synthesis-source').textContent()).resolves.toMatch(/Procedural textures \(seed 0, 256 of them\)/);
    // Every picture decoded: four per sample.
    await expect
      .poll(async () => page.getByTestId('synthesis-grid').evaluate((el) => [...el.querySelectorAll('img')].filter((i) => (i as HTMLImageElement).naturalWidth === 64).length), { timeout: 30_000 })
      .toBe(32);
    // anomalyProbability 1: every sample has an anomaly; the masks are black and white, not blank.
    await expect(samples.evaluateAll((els) => els.map((e) => e.getAttribute('data-anomalous')))).resolves.toEqual(Array(8).fill('true'));
    let marked = 0;
    for (let i = 0; i < 8; i++) if ((await colours(samples.nth(i).locator('img.mask'))) === 2) marked++;
    expect(marked, 'masks with both black and white pixels').toBeGreaterThanOrEqual(6);
    // The texture and the network input are pictures, not flat fills.
    expect(await colours(samples.first().locator('img').nth(1))).toBeGreaterThan(50);
    await expect(samples.first().locator('figcaption').textContent()).resolves.toMatch(/anomaly · [\d.]+ % of pixels · opacity [\d.]+ · lattice \d+×\d+/);
    await page.getByTestId('synthesis-preview').scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('draem-1-synthesis.png'), fullPage: true });

    // A changed form marks the shown grid stale.
    await setLaunchValue(page, 'anomalyProbability', '0.5');
    await expect(page.getByTestId('synthesis-source').textContent()).resolves.toMatch(/The form changed since: refresh/);

    // A DTD folder that is not there: the preview says so instead of a grid.
    await setLaunchValue(page, 'anomalySourceDir', '/nonexistent/dtd');
    await page.getByTestId('synthesis-preview-button').click();
    await expect.poll(async () => page.getByTestId('synthesis-preview-error').textContent(), { timeout: 30_000 }).toMatch(/anomaly source folder \/nonexistent\/dtd does not exist; point anomalySourceDir to a texture folder/i);
    await expect(page.getByTestId('synthesis-grid').count()).resolves.toBe(0);
    await page.getByTestId('synthesis-preview').scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('draem-1b-synthesis-error.png') });
    await setLaunchValue(page, 'anomalySourceDir', '');
  });

  it('trains a short fast run with live losses and opens its page: the three loss parts, input, reconstruction and anomaly map', async () => {
    await setLaunchValue(page, 'reconstructiveWidth', '8');
    await setLaunchValue(page, 'discriminativeWidth', '8');
    await setLaunchValue(page, 'learningRate', '0.001');
    await setLaunchValue(page, 'epochs', '10');
    await expect.poll(async () => page.getByTestId('launch-estimate').textContent(), { timeout: 30_000 }).toMatch(/0\.480 GFLOP per image × 16 images × 10 epochs/);
    await page.getByTestId('launch-submit').click();
    await page.getByTestId('run-row-1').waitFor();
    await expect.poll(async () => page.getByTestId('run-status-1').textContent(), { timeout: 120_000 }).toMatch(/^(done|failed|cancelled)$/);
    await expect(page.getByTestId('run-status-1').textContent()).resolves.toBe('done');

    await page.getByTestId('run-open-1').click();
    await page.getByTestId('run-page').waitFor();
    await expect.poll(async () => page.getByTestId('run-page-status').textContent(), { timeout: 30_000 }).toBe('done');
    await expect(page.getByTestId('run-training-facts').textContent()).resolves.toMatch(/10 epochs · 20 steps · final loss [\d.]+ · [\d.]+ img\/s/);
    const curves = page.getByTestId('run-training-curves');
    await curves.waitFor();
    for (const part of ['loss/l2', 'loss/ssim', 'loss/focal']) await expect(curves.textContent()).resolves.toContain(part);
    await expect(page.getByTestId('run-metrics').locator('tr').count()).resolves.toBeGreaterThan(2);
    const samples = page.getByTestId('run-sample');
    await expect.poll(async () => samples.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
    await expect(page.getByTestId('run-samples').locator('.row.head span').allTextContents()).resolves.toEqual(['Input', 'Reconstruction', 'Anomaly map']);
    const rows = await samples.count();
    await expect
      .poll(async () => page.getByTestId('run-samples').evaluate((el) => [...el.querySelectorAll('figure img')].filter((i) => (i as HTMLImageElement).naturalWidth > 0).length), { timeout: 30_000 })
      .toBe(3 * rows);
    await page.getByTestId('run-samples').scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('draem-2-samples.png') });
    await curves.scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('draem-3-page.png') });
  }, 180_000);
});
