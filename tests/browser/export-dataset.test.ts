/**
 * "Export curated dataset…" in a real browser: the Library's button opens the export dialog, a
 * fresh folder gets the demo in MIAD layout with manifest.json and the dialog shows the totals;
 * a non-empty folder is refused with the core's message and nothing is written. Screenshots go
 * to test-artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFile, readdir } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { SCENARIOS } from '../../src/shared/taxonomy';
import type { ExportManifest } from '../../src/main/core/annotate/export-dataset';
import { artifactPath, openDemoWorkspace, type DemoSession } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let session: DemoSession;
let page: Page;
let root: string;

beforeAll(async () => {
  root = await tmp();
  session = await openDemoWorkspace(root, 'export-workspace', { train: 3, test: 4, size: 64 }, { width: 1360, height: 860 });
  ({ page } = session);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

async function openDialog(): Promise<void> {
  await page.getByTestId('library-export').click();
  await page.getByTestId('export-dialog').waitFor();
}

describe('export curated dataset in the browser', () => {
  it('exports the workspace into a fresh folder and shows what was written', async () => {
    await page.getByTestId('nav-library').click();
    // 7 scenarios × (3 train + 4 test).
    await expect.poll(async () => page.getByTestId('library-total').textContent()).toMatch(/49 samples/);
    await openDialog();
    // "All scenarios" and the workspace's seven.
    await expect.poll(async () => page.getByTestId('export-scenario').locator('option').count()).toBe(8);
    const out = join(root, 'exports', 'curated');
    await page.getByTestId('export-dir-input').fill(out);
    await page.getByTestId('export-run').click();
    await page.getByTestId('export-summary').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('export-samples').textContent()).resolves.toBe('49');
    await expect(page.getByTestId('export-out').textContent()).resolves.toBe(out);
    await expect(page.getByTestId('export-manifest').textContent()).resolves.toBe(join(out, 'manifest.json'));
    await expect(page.getByTestId('export-changed-labels').textContent()).resolves.toBe('0');
    await page.screenshot({ path: await artifactPath('export-1-summary.png') });

    expect((await readdir(out)).sort()).toEqual([...SCENARIOS, 'manifest.json'].sort());
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as ExportManifest;
    expect(manifest.files).toHaveLength(49);
    for (const scenario of SCENARIOS) expect(await readdir(join(out, scenario, 'train', 'good'))).toHaveLength(3);

    await page.getByTestId('export-done').click();
    await expect(page.getByTestId('export-dialog').count()).resolves.toBe(0);
  });

  it('refuses a non-empty folder with the lab’s message and writes nothing', async () => {
    await openDialog();
    const out = join(root, 'exports', 'curated');
    const before = (await readdir(out)).sort();
    await page.getByTestId('export-dir-input').fill(out);
    await page.getByTestId('export-scenario').selectOption('metal_welding');
    await page.getByTestId('export-run').click();
    await page.getByTestId('export-error').waitFor();
    await expect(page.getByTestId('export-error').textContent()).resolves.toMatch(/is not empty: export into a new or empty folder/);
    await expect(page.getByTestId('export-summary').count()).resolves.toBe(0);
    expect((await readdir(out)).sort()).toEqual(before);
    await page.screenshot({ path: await artifactPath('export-2-refused.png') });
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('export-dialog').count()).resolves.toBe(0);
  });
});
