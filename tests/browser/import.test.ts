/**
 * Importing a dataset in the browser, as a user does it: the Overview's "Import dataset…", a
 * typed folder path, the scan step with the detected layout, an odd defect folder mapped by hand,
 * the import with its progress, the report; then the stored report and a rescan from the
 * Overview. Screenshots in test-artifacts/import-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { createLab } from '../../src/main/core/lab';
import { artifactPath, launchChromium, startServe, type ServeProcess } from '../helpers/browser';
import { useTmpDirs } from '../helpers/tmp';
import { png, scenarioFiles, writeTree } from '../import/helpers';

const tmp = useTmpDirs();
let serve: ServeProcess;
let browser: Browser;
let page: Page;
let dataRoot: string;

beforeAll(async () => {
  const root = await tmp();
  const workspace = join(root, 'workspace');
  (await createLab(workspace, { create: true })).close();
  dataRoot = join(root, 'field-copy');
  await writeTree(dataRoot, {
    ...scenarioFiles('Metal Welding/Metal Welding', ['Weld Pit', 'beads'], { seed: 10, train: 6, good: 3, perDefect: 3 }),
    ...scenarioFiles('nut_and_bolt', ['missing', 'loose'], { seed: 100, train: 6, good: 3, perDefect: 3 }),
    'nut_and_bolt/train/good/broken.png': new Uint8Array(),
    'nut_and_bolt/train/good/copy.png': png(100), // same bytes as train/good/000.png
  });
  serve = await startServe(['--workspace', workspace], { MIAD_LAB_CONFIG_DIR: join(root, 'config'), MIAD_LAB_WORKSPACES_DIR: join(root, 'workspaces') });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('import in the browser', () => {
  it('scans a folder, shows what it found, and asks for the folder it could not map', async () => {
    await page.goto(serve.url);
    await page.getByTestId('overview-empty').waitFor();
    await page.getByTestId('empty-import-dataset').click();
    await page.getByTestId('import-dialog').waitFor();
    // The server door has no native picker.
    await expect(page.getByTestId('import-browse').count()).resolves.toBe(0);
    await page.getByTestId('import-root-input').fill(dataRoot);
    await page.getByTestId('import-scan-button').click();
    await page.getByTestId('import-detected').waitFor();
    await expect(page.getByTestId('import-layout').textContent()).resolves.toBe('MIAD layout');
    await expect(page.getByTestId('import-scenario-row').count()).resolves.toBe(2);
    await expect(page.locator('[data-testid="import-scenario-row"][data-scenario="metal_welding"]').textContent()).resolves.toMatch(/nested/);
    await expect(page.getByTestId('import-unmapped-note').textContent()).resolves.toMatch(/1 folder could not be matched/);
    // Import waits for the mapping.
    await expect(page.getByTestId('import-run-button').isDisabled()).resolves.toBe(true);
    const weldPit = page.locator('[data-testid="import-map-select"][data-folder="metal_welding/Weld Pit"]');
    await expect(weldPit.inputValue()).resolves.toBe('weld_pit');
    await page.screenshot({ path: await artifactPath('import-1-scanned.png'), fullPage: true });
  });

  it('maps the odd folder by hand, imports with progress and shows the report', async () => {
    const select = page.locator('[data-testid="import-map-select"][data-folder="nut_and_bolt/missing"]');
    await select.selectOption('nut_miss');
    await expect(page.getByTestId('import-unmapped-note').count()).resolves.toBe(0);
    await page.getByTestId('import-name-input').fill('Field copy');
    await page.screenshot({ path: await artifactPath('import-2-mapped.png'), fullPage: true });
    await page.getByTestId('import-run-button').click();
    await page.getByTestId('import-report').waitFor({ timeout: 60_000 });

    await expect(page.getByTestId('report-row').count()).resolves.toBe(2);
    const bolt = page.locator('[data-testid="report-row"][data-scenario="nut_and_bolt"]');
    await expect(bolt.locator('[data-testid="report-defect"][data-defect="nut_miss"]').textContent()).resolves.toMatch(/nut miss\s*3/);
    await expect(bolt.locator('[data-testid="report-defect"][data-defect="looseness"]').textContent()).resolves.toMatch(/looseness\s*3/);
    const kinds = await page.getByTestId('report-problem').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    expect(kinds).toEqual(['zero-byte', 'duplicate']);
    await expect(page.locator('[data-testid="report-problem"][data-kind="zero-byte"]').textContent()).resolves.toContain('nut_and_bolt/train/good/broken.png');
    await expect(page.getByTestId('report-totals').textContent()).resolves.toMatch(/31 samples · 12 masks · 1 skipped/);
    await page.screenshot({ path: await artifactPath('import-3-report.png'), fullPage: true });

    await page.getByTestId('import-done').click();
    await page.getByTestId('overview-table').waitFor();
    await expect(page.getByTestId('dataset-section').textContent()).resolves.toMatch(/Field copy/);
    // The frame's workspace counts follow the import (workspaces:changed).
    await page.locator('header .meta').filter({ hasText: '1 dataset' }).waitFor();
    await expect(page.locator('header .meta').textContent()).resolves.toMatch(/1\s*dataset\s*31\s*images/);
    await page.screenshot({ path: await artifactPath('import-4-overview.png'), fullPage: true });
  });

  it('the stored report opens from the Overview, and a rescan applies what changed', async () => {
    await page.getByTestId('dataset-report').click();
    await page.getByTestId('report-dialog').waitFor();
    // The rows arrive with the stored report, after the dialog opens.
    await page.getByTestId('report-row').nth(1).waitFor();
    await expect(page.getByTestId('report-row').count()).resolves.toBe(2);
    await page.getByTestId('report-close').click();

    await writeFile(join(dataRoot, 'nut_and_bolt/train/good/new.png'), png(5000));
    await page.getByTestId('dataset-rescan').click();
    await page.getByTestId('report-changes').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('report-changes').textContent()).resolves.toMatch(/1\s*added.*0\s*removed.*0\s*modified/s);
    await expect(page.getByTestId('report-select').locator('option').count()).resolves.toBe(2);
    await page.screenshot({ path: await artifactPath('import-5-rescan.png'), fullPage: true });
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('report-dialog').count()).resolves.toBe(0);
  });
});
