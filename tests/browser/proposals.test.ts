/**
 * Model-assisted curation in a real browser (issue 19): a fast PatchCore run (random weights)
 * launched from the form; in the editor a mask proposed from its map, shown over the image, moved
 * with the threshold slider, taken in to refine with the brush and saved, then another accepted and
 * reverted from the history panel, each history entry naming its origin; a review queue of the
 * Library's selection stepped with the keyboard (A accept, R reject, E edit, → next); and the run
 * page's label disagreements, one label fixed with the review recorded as its origin.
 * Screenshots go to test-artifacts/proposals-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { artifactPath, openDemoWorkspace, type DemoSession } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let session: DemoSession;
let page: Page;

beforeAll(async () => {
  session = await openDemoWorkspace(await tmp(), 'proposals-workspace', { train: 12, test: 16, size: 96 }, { width: 1500, height: 950 });
  ({ page } = session);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

const number = (text: string | null) => Number((text ?? '').replace(/ px.*$/s, '').replace(/,/g, ''));
const maskPixels = async () => number(await page.getByTestId('annotate-mask-info').textContent());
const proposalPixels = async () => number(await page.getByTestId('annotate-proposal-info').textContent());
const topEntry = () => page.getByTestId('annotate-history-entry').first();
const entries = () => page.getByTestId('annotate-history-entry').count();

/** Sets the threshold slider to the middle of the map's range, as a drag would (input events). */
async function thresholdToMiddle(): Promise<number> {
  return page.getByTestId('annotate-propose-threshold').evaluate((el) => {
    const input = el as HTMLInputElement;
    const mid = (Number(input.min) + Number(input.max)) / 2;
    input.value = String(mid);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    return Number(input.value);
  });
}

async function libraryNutAndBoltDefects(): Promise<void> {
  await page.getByTestId('nav-library').click();
  await page.getByTestId('library-grid').waitFor();
  for (const [facet, value] of [['scenario', 'nut_and_bolt'], ['split', 'test'], ['kind', 'anomalous']]) {
    const box = page.locator(`[data-testid="facet-value"][data-facet="${facet}"][data-value="${value}"]`);
    if (!(await box.isChecked())) await box.check();
  }
  await page.waitForFunction(() => {
    const tiles = document.querySelectorAll('[data-testid="library-tile"][data-id]');
    return tiles.length > 0 && [...tiles].every((t) => t.getAttribute('data-label') !== 'good');
  });
}

describe('mask proposals and review queues in the browser', () => {
  it('trains a fast PatchCore run on nut_and_bolt from the form', async () => {
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('launch-form').waitFor();
    await expect.poll(async () => page.getByTestId('launch-method').inputValue()).toBe('patchcore');
    await page.getByTestId('launch-scenario-all').check();
    await page.getByTestId('launch-scenario-all').uncheck();
    await page.getByTestId('launch-scenario-nut_and_bolt').check();
    await page.getByTestId('launch-preset').selectOption('fast');
    await page.getByTestId('launch-backend').selectOption('wasm');
    await page.getByTestId('launch-name').fill('proposer');
    await page.getByTestId('launch-submit').click();
    await page.getByTestId('run-row-1').waitFor();
    await expect.poll(async () => page.getByTestId('run-status-1').textContent(), { timeout: 300_000, interval: 500 }).toBe('done');
  }, 330_000);

  it('proposes a mask, refines it with the brush and saves it; accepts another and reverts it', async () => {
    await libraryNutAndBoltDefects();
    await page.getByTestId('library-tile').first().dblclick();
    await page.getByTestId('sample-viewer').waitFor();
    await page.getByTestId('viewer-annotate').click();
    await page.getByTestId('annotate-editor').waitFor();
    await expect.poll(async () => page.getByTestId('annotate-propose-run').inputValue()).toBe('1');
    await page.getByTestId('annotate-propose-button').click();
    await page.getByTestId('annotate-proposal-overlay').waitFor();
    // Halfway up the map's range: at least its hottest pixel is proposed, and far from all of them.
    const threshold = await thresholdToMiddle();
    await expect.poll(async () => page.getByTestId('annotate-propose-threshold').inputValue()).toBe(String(threshold));
    await expect.poll(async () => (await page.getByTestId('annotate-proposal-info').textContent())?.includes(' px in ')).toBe(true);
    // The proposal shown is the slider's (its value printed to 3 significant digits beside it).
    const shown = async () => Number((await page.locator('[data-testid="annotate-propose-threshold"] + .num').textContent()) ?? NaN);
    await expect.poll(async () => Math.abs((await shown()) - threshold) <= Math.abs(threshold) * 0.005).toBe(true);
    const proposed = await proposalPixels();
    expect(proposed).toBeGreaterThan(0);
    expect(proposed).toBeLessThan(96 * 96);
    await page.screenshot({ path: await artifactPath('proposals-1-overlay.png') });

    // E takes it into the canvas (pressed with the focus still on the slider, as after a drag); a
    // brush stroke refines it; Ctrl+S saves with the origin.
    await page.getByTestId('annotate-propose-threshold').focus();
    await page.keyboard.press('e');
    await expect.poll(async () => page.getByTestId('annotate-proposal-overlay').count()).toBe(0);
    await expect.poll(maskPixels).toBe(proposed);
    const box = (await page.getByTestId('annotate-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.05, box.y + box.height * 0.9);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.95, { steps: 6 });
    await page.mouse.up();
    await expect.poll(maskPixels).not.toBe(proposed);
    const refined = await maskPixels();
    await page.getByTestId('annotate-editor').press('Control+s');
    await expect.poll(async () => page.getByTestId('annotate-status').textContent()).toMatch(/Saved/);
    await expect.poll(async () => topEntry().textContent()).toMatch(/proposed by run #1 at threshold .*edited before saving/);
    await page.screenshot({ path: await artifactPath('proposals-2-refined.png') });

    // Another proposal at the run's own threshold, snapped to the image's edges within 3 px, accepted
    // with A: a new version naming the snap; reverting it puts the refined mask back.
    await page.getByTestId('annotate-propose-snap').check();
    await page.getByTestId('annotate-propose-snap-band').fill('3');
    await page.getByTestId('annotate-propose-snap-band').dispatchEvent('change');
    await page.getByTestId('annotate-propose-button').click();
    await page.getByTestId('annotate-proposal-overlay').waitFor();
    await expect.poll(async () => page.getByTestId('annotate-proposal-info').textContent()).toMatch(/snapping moved [\d,]+ px/);
    await page.screenshot({ path: await artifactPath('proposals-2b-snapped.png') });
    const accepted = await proposalPixels();
    const before = await entries();
    await page.getByTestId('annotate-editor').press('a');
    await expect.poll(entries).toBe(before + 1);
    await expect.poll(async () => topEntry().textContent()).toMatch(/Mask saved[\s\S]*proposed by run #1 at threshold .*snapped to edges within 3 px/);
    await expect(topEntry().textContent()).resolves.not.toMatch(/edited before saving/);
    await expect.poll(maskPixels).toBe(accepted);
    // A was the proposal's accept, not "anomalous": the label did not move.
    await expect(page.getByTestId('annotate-label-anomalous').isChecked()).resolves.toBe(true);
    await topEntry().getByTestId('annotate-revert').click();
    await expect.poll(entries).toBe(before + 2);
    await expect.poll(maskPixels).toBe(refined);
    await expect.poll(async () => topEntry().textContent()).toMatch(/Revert of #/);
    await page.getByTestId('annotate-close').click();
    await page.getByTestId('viewer-close').click();
  }, 120_000);

  it('steps a review queue of the selection with the keyboard: A accepts, R rejects, E edits, → moves on', async () => {
    await libraryNutAndBoltDefects();
    await page.getByTestId('library-select-all').click();
    await page.getByTestId('library-propose-masks').click();
    await page.getByTestId('library-propose').waitFor();
    await page.getByTestId('propose-min-area').fill('0');
    await page.getByTestId('propose-start').click();
    await page.getByTestId('review-queue').waitFor();
    const total = Number(((await page.getByTestId('review-queue-position').textContent()) ?? '').split('/')[1]);
    expect(total).toBeGreaterThanOrEqual(4);
    const position = () => page.getByTestId('review-queue-position').textContent();
    await expect(position()).resolves.toBe(`1 / ${total}`);
    await page.getByTestId('annotate-proposal-overlay').waitFor();
    await page.screenshot({ path: await artifactPath('proposals-3-queue.png') });

    await page.getByTestId('annotate-editor').press('a');
    await expect.poll(position).toBe(`2 / ${total}`);
    await page.getByTestId('annotate-proposal-overlay').waitFor();
    await page.getByTestId('annotate-editor').press('r');
    await expect.poll(position).toBe(`3 / ${total}`);
    await page.getByTestId('annotate-proposal-overlay').waitFor();
    await page.getByTestId('annotate-editor').press('e');
    await expect.poll(async () => page.getByTestId('annotate-proposal-overlay').count()).toBe(0);
    await expect.poll(async () => page.getByTestId('annotate-status').textContent()).toMatch(/Unsaved changes|Saving|Saved/);
    await page.getByTestId('annotate-editor').press('ArrowRight');
    await expect.poll(position).toBe(`4 / ${total}`);
    await page.getByTestId('annotate-proposal-overlay').waitFor();
    await page.screenshot({ path: await artifactPath('proposals-4-queue-step.png') });

    // Back through the queue: what each key left in the sample's history.
    await page.getByTestId('annotate-editor').press('ArrowLeft');
    await expect.poll(position).toBe(`3 / ${total}`);
    await expect.poll(async () => topEntry().textContent()).toMatch(/proposed by run #1 .*edited before saving/);
    await page.getByTestId('annotate-editor').press('ArrowLeft');
    await expect.poll(position).toBe(`2 / ${total}`);
    await expect.poll(async () => page.getByTestId('annotate-history').textContent()).toMatch(/No edit yet/);
    await page.getByTestId('annotate-editor').press('ArrowLeft');
    await expect.poll(position).toBe(`1 / ${total}`);
    await expect.poll(async () => topEntry().textContent()).toMatch(/Mask saved[\s\S]*proposed by run #1 at threshold/);
    await page.getByTestId('annotate-editor').press('Escape');
    await expect.poll(async () => page.getByTestId('review-queue').count()).toBe(0);
  }, 120_000);

  it("reviews the run's label disagreements from its page and fixes one label, recorded with the review", async () => {
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('run-open-1').click();
    await page.getByTestId('run-page').waitFor();
    const button = page.getByTestId('run-review-disagreements');
    await button.waitFor();
    const count = Number(((await button.textContent()) ?? '').match(/Review (\d+)/)?.[1]);
    expect(count).toBeGreaterThan(0);
    await button.click();
    await page.getByTestId('review-queue').waitFor();
    await expect(page.getByTestId('review-queue-position').textContent()).resolves.toBe(`1 / ${count}`);
    const question = (await page.getByTestId('annotate-review-question').textContent()) ?? '';
    expect(question).toMatch(/^False (positive|negative) of run #1: scored .* Is this label right\?$/);
    await page.screenshot({ path: await artifactPath('proposals-5-disagreement.png') });
    // Flip the label with the editor's keys (G good / A anomalous): the history names the review.
    const wasGood = await page.getByTestId('annotate-label-good').isChecked();
    await page.getByTestId('annotate-editor').press(wasGood ? 'a' : 'g');
    await expect.poll(async () => topEntry().textContent()).toMatch(/from the review of run #1's false (positives|negatives)/);
    await topEntry().getByTestId('annotate-revert').click();
    await expect.poll(async () => page.getByTestId(wasGood ? 'annotate-label-good' : 'annotate-label-anomalous').isChecked()).toBe(true);
    if (count > 1) {
      await page.getByTestId('annotate-editor').press('ArrowRight');
      await expect.poll(async () => page.getByTestId('review-queue-position').textContent()).toBe(`2 / ${count}`);
    }
    await page.getByTestId('annotate-editor').press('Escape');
    await expect.poll(async () => page.getByTestId('review-queue').count()).toBe(0);
  }, 120_000);
});
