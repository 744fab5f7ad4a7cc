/**
 * "Check the training set" in a real browser (issue 19): from the Library, a 3-fold PatchCore check
 * (fast preset, random ResNet18) of the demo's nut_and_bolt training images runs as a job; the
 * suspicion facet appears with the check's bins and filters the grid; the sample viewer shows the
 * score; the top of the ranking opens in the review queue, stepped with the keyboard (A flags the
 * image out of training, R keeps it as good), and the training facet counts the flag.
 * Screenshots go to test-artifacts/train-check-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { artifactPath, openDemoWorkspace, type DemoSession } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let session: DemoSession;
let page: Page;

beforeAll(async () => {
  session = await openDemoWorkspace(await tmp(), 'train-check-workspace', { train: 10, test: 4, size: 64 }, { width: 1500, height: 950 });
  ({ page } = session);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

const facetBox = (facet: string, value: string) => page.locator(`[data-testid="facet-value"][data-facet="${facet}"][data-value="${value}"]`);
const facetCount = async (facet: string, value: string) =>
  Number(((await facetBox(facet, value).locator('xpath=..').locator('.count').textContent()) ?? '').replace(/,/g, ''));

describe('the training-set check in the browser', () => {
  it('runs a check from the Library; the suspicion facet appears and filters', async () => {
    await page.getByTestId('nav-library').click();
    await page.getByTestId('library-grid').waitFor();
    // Before any check every sample is "not checked".
    await facetBox('suspicion', 'unchecked').waitFor();
    await expect.poll(() => facetCount('suspicion', 'unchecked')).toBe(98);
    expect(await facetBox('suspicion', 'top-1%').count()).toBe(0);

    await page.getByTestId('library-check-train').click();
    await page.getByTestId('train-check-scenario').selectOption('nut_and_bolt');
    await page.getByTestId('train-check-folds').fill('3');
    await page.getByTestId('train-check-preset').selectOption('fast');
    await page.getByTestId('train-check-start').click();
    await page.getByTestId('train-check-shown').waitFor({ timeout: 300_000 });
    expect(await page.getByTestId('train-check-shown').textContent()).toMatch(/10 images, 3 folds, patchcore fast \(random backbone\)/);

    await facetBox('suspicion', 'top-1%').waitFor();
    expect(await facetCount('suspicion', 'top-1%')).toBe(1);
    await page.getByTestId('facet-suspicion').scrollIntoViewIfNeeded();
    await page.screenshot({ path: await artifactPath('train-check-1-facet.png') });
    await facetBox('suspicion', 'top-1%').check();
    await expect.poll(() => page.getByTestId('library-total').textContent()).toMatch(/^\s*1 sample/);
    await page.getByTestId('library-tile').first().dblclick();
    await page.getByTestId('viewer-suspicion').waitFor();
    expect(await page.getByTestId('viewer-suspicion').textContent()).toMatch(/rank 1 of 10 \(top 1%\) · check #1/);
    await page.screenshot({ path: await artifactPath('train-check-2-viewer.png') });
    await page.keyboard.press('Escape');
    await page.getByTestId('sample-viewer').waitFor({ state: 'detached' });
    await page.getByTestId('facet-clear-suspicion').click();
  }, 330_000);

  it('steps the top of the ranking in the review queue with the keyboard', async () => {
    await page.getByTestId('train-check-top').fill('3');
    await page.getByTestId('train-check-review').click();
    await page.getByTestId('review-queue').waitFor();
    await page.getByTestId('annotate-suspicion-question').waitFor();
    expect(await page.getByTestId('review-queue-position').textContent()).toBe('1 / 3');
    expect(await page.getByTestId('annotate-suspicion-question').textContent()).toMatch(/^Ranked 1 of 10 by training-set check #1/);
    await page.screenshot({ path: await artifactPath('train-check-3-queue.png') });
    // A: flagged out of training, and on to the next.
    await page.keyboard.press('a');
    await expect.poll(() => page.getByTestId('review-queue-position').textContent()).toBe('2 / 3');
    await page.getByTestId('annotate-suspicion-question').waitFor();
    expect(await page.getByTestId('annotate-suspicion-question').textContent()).toMatch(/^Ranked 2 of 10/);
    // R: kept as good (reviewed), and on.
    await page.keyboard.press('r');
    await expect.poll(() => page.getByTestId('review-queue-position').textContent()).toBe('3 / 3');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => page.getByTestId('review-queue-position').textContent()).toBe('2 / 3');
    await expect.poll(() => page.getByTestId('annotate-review-state').inputValue()).toBe('reviewed');
    expect(await page.getByTestId('annotate-training').textContent()).toBe('included');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => page.getByTestId('annotate-training').textContent()).toBe('excluded from training sets');
    expect(await page.getByTestId('annotate-history-entry').first().textContent()).toMatch(/flagged as suspicious in the review of training-set check #1/);
    await page.screenshot({ path: await artifactPath('train-check-4-flagged.png') });
    await page.keyboard.press('Escape');
    await page.getByTestId('review-queue').waitFor({ state: 'detached' });
    // The Library's training facet counts the flagged image.
    await expect.poll(() => facetCount('training', 'excluded')).toBe(1);
  }, 120_000);
});
