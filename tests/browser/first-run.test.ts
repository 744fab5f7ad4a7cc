/**
 * The first run, as a user meets it in a browser: the server started on a fresh workspace folder,
 * Chromium opens the printed address, creates the demo workspace from the first screen and lands
 * in the app frame with the Overview. Screenshots are kept in test-artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { artifactPath, launchChromium, startServe, type ServeProcess } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let serve: ServeProcess;
let browser: Browser;
let page: Page;
let workspace: string;

beforeAll(async () => {
  const root = await tmp();
  workspace = join(root, 'fresh-workspace');
  serve = await startServe(['--workspace', workspace], { MIAD_LAB_CONFIG_DIR: join(root, 'config'), MIAD_LAB_WORKSPACES_DIR: join(root, 'workspaces') });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('first run in the browser', () => {
  it('without the token the page asks for it', async () => {
    await page.goto(`http://127.0.0.1:${serve.port}/`);
    await page.getByTestId('token-screen').waitFor();
    await page.screenshot({ path: await artifactPath('first-run-0-no-token.png') });
  });

  it('creates the demo workspace from the first screen and lands in the app frame', async () => {
    await page.goto(serve.url);
    await page.getByTestId('start-screen').waitFor();
    // The token leaves the address bar once read.
    expect(page.url()).not.toContain('token=');
    await expect(page.getByTestId('demo-dir-input').inputValue()).resolves.toBe(workspace);
    // A smaller demo than the default keeps the test short; the path through the app is the same.
    await page.getByTestId('demo-advanced-toggle').click();
    await page.getByTestId('demo-train-input').fill('6');
    await page.getByTestId('demo-test-input').fill('8');
    await page.getByTestId('demo-size-input').fill('128');
    await page.screenshot({ path: await artifactPath('first-run-1-start.png') });
    await page.getByTestId('create-demo-button').click();
    await page.getByTestId('app-frame').waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('workspace-path').textContent()).resolves.toContain(workspace);
    expect(existsSync(join(workspace, 'lab.sqlite'))).toBe(true);

    // The Overview: every scenario with its counts, all 14 defect types of Table A.1.
    await page.getByTestId('overview-table').waitFor();
    await expect(page.getByTestId('overview-row').count()).resolves.toBe(7);
    await expect(page.getByTestId('defect-count').count()).resolves.toBe(14);
    const weld = page.locator('[data-testid="overview-row"][data-scenario="metal_welding"]');
    await expect(weld.textContent()).resolves.toMatch(/weld beading/);
    await expect(page.getByTestId('status-door').textContent()).resolves.toMatch(/browser/i);

    // Example images are real files served through the confined file route, masks overlaid.
    const firstImage = page.getByTestId('example-image').first();
    await firstImage.waitFor();
    await page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll<HTMLImageElement>('[data-testid="example-image"]')];
      return imgs.length > 0 && imgs.every((img) => img.complete && img.naturalWidth > 0);
    });
    const natural = await firstImage.evaluate((img: HTMLImageElement) => img.naturalWidth);
    expect(natural).toBe(128);
    await expect(page.getByTestId('example-mask').count()).resolves.toBeGreaterThanOrEqual(14);
    await page.screenshot({ path: await artifactPath('first-run-2-overview.png'), fullPage: true });

    // The status bar says which compute backend jobs would use, and why the others are not there.
    await expect.poll(() => page.getByTestId('status-compute').textContent(), { timeout: 30_000 }).toMatch(/Compute: wasm/);
    await page.getByTestId('status-compute').click();
    await expect(page.getByTestId('compute-backend').count()).resolves.toBe(5);
    const gpu = page.locator('[data-testid="compute-backend"][data-backend="tensorflow-gpu"]');
    await expect(gpu.getAttribute('data-available')).resolves.toBe('false');
    await expect(gpu.textContent()).resolves.toMatch(/tfjs-node-gpu is not installed/);
    await page.screenshot({ path: await artifactPath('first-run-2b-compute.png') });
    await page.keyboard.press('Escape');
  });

  it('closing the workspace returns to the first screen, which lists it as recent', async () => {
    await page.getByTestId('close-workspace').click();
    await page.getByTestId('start-screen').waitFor();
    await expect(page.getByTestId('recent-item').first().textContent()).resolves.toContain('fresh-workspace');
    // Its folder now holds a workspace, so the next demo is offered elsewhere.
    // (The start screen refreshes app:info as it opens: wait for the new default to arrive.)
    await expect.poll(() => page.getByTestId('demo-dir-input').inputValue(), { timeout: 10_000 }).not.toBe(workspace);
    await page.getByTestId('recent-item').first().click();
    await page.getByTestId('app-frame').waitFor();
    await page.screenshot({ path: await artifactPath('first-run-3-reopened.png') });
  });

  it('a bad folder gets a clear message next to the action', async () => {
    await page.getByTestId('close-workspace').click();
    await page.getByTestId('open-dir-input').fill('relative/path');
    await page.getByTestId('open-workspace-button').click();
    await expect(page.getByTestId('open-workspace-error').textContent()).resolves.toMatch(/absolute/);
    await page.screenshot({ path: await artifactPath('first-run-4-error.png') });
  });
});
