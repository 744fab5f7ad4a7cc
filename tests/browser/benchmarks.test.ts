/**
 * Benchmarks through the browser door: "Reproduce the paper" shows the paper matrix's estimate and
 * the cells that cannot run here (no pretrained weights in a fresh workspace), without launching
 * it; then a small matrix of one's own (PatchCore and the Auto-Encoder, fast and shrunk, on two
 * scenarios) runs cell by cell, fills the paper table, and opens in the compare view.
 * Screenshots go to test-artifacts/benchmarks-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { artifactPath, openDemoWorkspace, type DemoSession } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';
import { TINY_OVERRIDES } from '../bench/helpers';

const tmp = useTmpDirs();
let session: DemoSession;
let page: Page;

beforeAll(async () => {
  session = await openDemoWorkspace(await tmp(), 'bench-workspace', { train: 8, test: 8, size: 64 }, { width: 1360, height: 900 });
  ({ page } = session);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

describe('benchmarks in the browser', () => {
  it('"Reproduce the paper" shows the estimate of the whole matrix and the cells that cannot run here, without launching it', async () => {
    await page.getByTestId('nav-benchmarks').click();
    await page.getByTestId('bench-area').waitFor();
    await page.getByTestId('bench-form').waitFor();
    await page.screenshot({ path: await artifactPath('benchmarks-0-area.png'), fullPage: true });
    await page.getByTestId('bench-paper').click();
    await expect.poll(async () => page.getByTestId('bench-title').textContent(), { timeout: 30_000 }).toBe('Reproduce the paper');
    await expect(page.getByTestId('bench-state').textContent()).resolves.toBe('created');
    // Five methods × seven scenarios and UniAD's one unified cell.
    await expect.poll(async () => page.locator('[data-testid^="bench-cell-"]').count()).toBe(36);
    // PatchCore, RD and FastFlow on seven scenarios and UniAD once need pretrained backbones this workspace lacks.
    await expect.poll(async () => page.getByTestId('bench-blocked-count').textContent(), { timeout: 30_000 }).toBe('22');
    await expect(page.getByTestId('bench-blocked').textContent()).resolves.toMatch(/no pretrained wide_resnet50_2 weights in this workspace: miad-lab weights fetch wide_resnet50_2\.tv_in1k/);
    await expect(page.getByTestId('bench-estimate-time').textContent()).resolves.toMatch(/\d/);
    await page.screenshot({ path: await artifactPath('benchmarks-1-paper-estimate.png'), fullPage: true });
    await page.getByTestId('bench-back').click();
    await page.getByTestId('bench-list').waitFor();
  });

  it('runs a small matrix of its own cell by cell, fills the table and opens it in compare', async () => {
    for (const m of ['reverse_distillation', 'fastflow', 'draem', 'uniad']) await page.getByTestId(`bench-method-${m}`).uncheck();
    await page.getByTestId('bench-method-patchcore').check();
    await page.getByTestId('bench-method-autoencoder').check();
    for (const s of ['catenary_dropper', 'electrical_insulator', 'metal_welding', 'photovoltaic_module', 'witness_mark']) await page.getByTestId(`bench-scenario-${s}`).uncheck();
    await page.getByTestId('bench-scenario-nut_and_bolt').check();
    await page.getByTestId('bench-scenario-wind_turbine').check();
    await page.getByTestId('bench-presets').fill('fast');
    await page.getByTestId('bench-weights-random').check();
    await page.getByTestId('bench-backend').selectOption('wasm');
    await page.getByTestId('bench-overrides').fill(JSON.stringify(TINY_OVERRIDES));
    await page.getByTestId('bench-name').fill('small matrix');
    await page.getByTestId('bench-create').click();
    await expect.poll(async () => page.getByTestId('bench-title').textContent(), { timeout: 30_000 }).toBe('small matrix');
    await expect.poll(async () => page.getByTestId('bench-blocked-count').textContent(), { timeout: 30_000 }).toBe('0');
    await page.screenshot({ path: await artifactPath('benchmarks-2-small-estimate.png'), fullPage: true });

    await page.getByTestId('bench-start').click();
    await expect.poll(async () => page.locator('[data-state="running"]').count(), { timeout: 60_000 }).toBe(1);
    await page.screenshot({ path: await artifactPath('benchmarks-3-running.png'), fullPage: true });
    await expect.poll(async () => page.getByTestId('bench-state').textContent(), { timeout: 240_000 }).toBe('done');
    await expect.poll(async () => page.locator('[data-state="done"]').count()).toBe(4);
    await page.getByTestId('paper-row-patchcore').waitFor({ timeout: 30_000 });
    await page.getByTestId('paper-row-autoencoder').waitFor();
    await page.screenshot({ path: await artifactPath('benchmarks-4-done.png'), fullPage: true });

    await page.getByTestId('bench-compare').click();
    await page.getByTestId('compare-view').waitFor();
    await page.getByTestId('paper-table').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: await artifactPath('benchmarks-5-compare.png'), fullPage: true });
    await page.getByTestId('compare-back').click();
    await page.getByTestId('bench-matrix').waitFor();
  }, 360_000);
});
