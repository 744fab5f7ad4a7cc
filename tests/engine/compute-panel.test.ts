/**
 * The compute panel of the status bar in a real browser against the headless server: forcing an
 * unavailable backend is refused with the reason and the control goes back; forcing an available
 * one shows it as the active backend (forced) and persists across a reload; the workspace's
 * frozen-feature cache shows its entries and hits and can be cleared. Needs `npm run build`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { FeatureCache } from '../../src/main/core/engine/feature-cache';
import { artifactPath, openDemoWorkspace, type DemoSession } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';
import { writerKey, writerLayers } from './fixtures/cache-data';

const tmp = useTmpDirs();
let session: DemoSession;
let page: Page;

beforeAll(async () => {
  session = await openDemoWorkspace(await tmp(), 'compute-workspace', { train: 2, test: 2, size: 64 });
  ({ page } = session);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

describe('compute panel', () => {
  it('forces a backend or refuses with the reason; shows and clears the feature cache', async () => {
    // What a PatchCore job would have left in the workspace's cache.
    const cache = await FeatureCache.open(FeatureCache.workspaceDir(session.workspace));
    for (let i = 0; i < 3; i++) {
      await cache.get(writerKey(i));
      await cache.put(writerKey(i), writerLayers(i));
    }
    await cache.get(writerKey(1));
    await cache.close();

    const status = page.getByTestId('status-compute');
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(/Compute: wasm$/);
    await status.click();
    const force = page.getByTestId('compute-force');
    await expect(force.inputValue()).resolves.toBe('auto');

    await force.selectOption('tensorflow-gpu');
    await expect(page.getByTestId('compute-force-error').textContent()).resolves.toMatch(/tensorflow-gpu cannot be forced.*tfjs-node-gpu is not installed/);
    await expect.poll(() => force.inputValue()).toBe('auto');
    await expect(status.textContent()).resolves.toMatch(/Compute: wasm$/);

    await force.selectOption('cpu');
    await expect.poll(() => status.textContent()).toMatch(/Compute: cpu \(forced\)/);
    await expect(page.getByTestId('compute-force-error').count()).resolves.toBe(0);

    const stats = page.getByTestId('feature-cache-stats');
    await expect.poll(async () => (await stats.textContent())?.replace(/\s+/g, ' ')).toMatch(/3 images, \d+ kB of 20\.00 GB · 1 hit, 3 misses \(25 % hits\)/);
    await page.screenshot({ path: await artifactPath('compute-panel.png') });
    await page.getByTestId('feature-cache-clear').click();
    await expect.poll(async () => (await stats.textContent())?.replace(/\s+/g, ' ')).toMatch(/0 images, 0 kB of 20\.00 GB · 0 hits, 0 misses$/);

    // The setting is stored on the server side: a reload still shows it.
    await page.reload();
    await page.getByTestId('app-frame').waitFor();
    await expect.poll(() => page.getByTestId('status-compute').textContent(), { timeout: 30_000 }).toMatch(/Compute: cpu \(forced\)/);
    await page.getByTestId('status-compute').click();
    await page.getByTestId('compute-force').selectOption('auto');
    await expect.poll(() => page.getByTestId('status-compute').textContent()).toMatch(/Compute: wasm$/);
  });
});
