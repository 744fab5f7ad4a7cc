/**
 * UniAD through the browser door, as a user meets it: the method in the launch form with its presets
 * and their sources (MIAD A.2.6, the official config, ours), three scenarios ticked with "one unified
 * model" (one run, not three), a tiny fast run at 128 px (8 × 8 tokens: the smallest grid on which
 * the 7×7 neighbour mask leaves every token keys), then the runs table (one row over the three
 * scenarios) and the compare view: the paper table's one row with a value in each scenario's column
 * and the "unified" chip, and the defect types of all three scenarios. Screenshots go to
 * test-artifacts/uniad-*.png. The detection quality is asserted by tests/uniad/unified-cli.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { artifactPath, openDemoWorkspace, pickScenarios, setLaunchValue, type DemoSession } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let session: DemoSession;
let page: Page;
const SCENARIOS = ['nut_and_bolt', 'photovoltaic_module', 'wind_turbine'];

beforeAll(async () => {
  session = await openDemoWorkspace(await tmp(), 'uniad-workspace', { train: 8, test: 8, size: 128 }, { width: 1400, height: 900 });
  ({ page } = session);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

describe('UniAD in the browser', () => {
  it('offers its presets with sourced values and one unified run over the ticked scenarios', async () => {
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('launch-form').waitFor();
    await page.getByTestId('launch-method').selectOption('uniad');
    await expect.poll(async () => page.getByTestId('launch-preset').locator('option').allTextContents(), { timeout: 30_000 }).toEqual(['paper', 'official', 'fast']);
    await page.getByTestId('launch-preset').selectOption('paper');
    await expect(page.getByTestId('launch-source-epochs').textContent()).resolves.toMatch(/^MIAD A\.2\.6/);
    await expect(page.getByTestId('launch-source-clipMaxNorm').textContent()).resolves.toBe('UniAD experiments/MVTec-AD/config.yaml trainer.clip_max_norm');
    await expect(page.getByTestId('launch-value-lrStepEpochs').inputValue()).resolves.toBe('400');
    await expect(page.getByTestId('preset-note').textContent()).resolves.toMatch(/Unified: tick every scenario/);

    await pickScenarios(page, SCENARIOS);
    // A method that trains one model over several scenarios offers it, ticked by default.
    await expect(page.getByTestId('launch-unified').isChecked()).resolves.toBe(true);
    await expect(page.getByTestId('launch-submit').textContent()).resolves.toMatch(/Start one unified run over 3 scenarios/);
    await page.getByTestId('launch-unified').uncheck();
    await expect(page.getByTestId('launch-submit').textContent()).resolves.toMatch(/Start 3 runs/);
    await page.getByTestId('launch-unified').check();

    await page.getByTestId('launch-preset').selectOption('fast');
    await page.getByTestId('launch-backend').selectOption('wasm');
    for (const [key, value] of [
      ['trainImages', '8'],
      ['epochs', '2'],
      ['batchSize', '8'],
      ['hiddenDim', '32'],
      ['feedforward', '64'],
    ] as const)
      await setLaunchValue(page, key, value);
    // One estimate for the one run: 8 images from each of the three scenarios.
    await expect.poll(async () => page.getByTestId('launch-estimate').textContent(), { timeout: 30_000 }).toMatch(/Estimated: .* per image × 24 images × 2 epochs/);
    await setLaunchValue(page, 'inputSize', '64');
    await expect.poll(async () => page.getByTestId('launch-estimate').textContent(), { timeout: 30_000 }).toMatch(/4×4 token grid/);
    await setLaunchValue(page, 'inputSize', '128');
    await expect.poll(async () => page.getByTestId('launch-estimate').textContent(), { timeout: 30_000 }).toMatch(/Estimated: .* × 24 images × 2 epochs/);
    await page.screenshot({ path: await artifactPath('uniad-1-launch.png'), fullPage: true });
  });

  it('trains one unified run that the runs table shows over the three scenarios', async () => {
    await page.getByTestId('launch-submit').click();
    await page.getByTestId('run-row-1').waitFor();
    await expect.poll(async () => page.getByTestId('run-status-1').textContent(), { timeout: 200_000 }).toBe('done');
    // One run, not three.
    await expect(page.locator('[data-testid^="run-row-"]').count()).resolves.toBe(1);
    // One row, marked unified, its scenarios in the cell's tooltip.
    await expect(page.getByTestId('run-scenarios-1').textContent()).resolves.toMatch(/unified · 3 scenarios/);
    await expect(page.getByTestId('run-scenarios-1').getAttribute('title')).resolves.toBe(SCENARIOS.join(', '));
    await page.getByTestId('runs-table').scrollIntoViewIfNeeded();
    await page.getByTestId('runs-table').screenshot({ path: await artifactPath('uniad-2-runs-table.png') });
  }, 240_000);

  it('compares it per scenario and per defect type', async () => {
    await page.getByTestId('run-check-1').check();
    await page.getByTestId('runs-compare').click();
    await page.getByTestId('compare-view').waitFor();
    await page.getByTestId('paper-table').waitFor();
    await expect(page.locator('[data-testid^="paper-row-"]').count()).resolves.toBe(1);
    await page.getByTestId('paper-unified-run:1').waitFor();
    const headers = await page.locator('[data-testid="paper-table"] thead th.sc').allTextContents();
    // Three scenarios per metric block (image AUROC, pixel AUROC, AUPRO).
    expect(headers).toHaveLength(9);
    const cells = await page.locator('[data-testid="paper-row-run:1"] td').allTextContents();
    // Every scenario column and mean has a number (none left empty as '—').
    expect(cells.filter((c) => /\d/.test(c))).toHaveLength(12);
    const defects = await page.locator('[data-testid="defect-row"] th').allTextContents();
    for (const d of ['looseness', 'bolt miss', 'nut miss', 'broken', 'miss', 'foreign body', 'crack']) expect(defects).toContain(d);
    await page.getByTestId('compare-paper').screenshot({ path: await artifactPath('uniad-3-paper-table.png') });
    await page.setViewportSize({ width: 1500, height: 2400 });
    await page.screenshot({ path: await artifactPath('uniad-4-compare.png') });
    await page.setViewportSize({ width: 1400, height: 900 });
  }, 120_000);
});
