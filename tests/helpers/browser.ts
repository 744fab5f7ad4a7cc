/**
 * Browser-test plumbing: the real headless server in a child process (as `miad-lab serve` runs it)
 * and Debian's Chromium driven by playwright-core. Screenshots go to test-artifacts/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = join(__dirname, '../..');
export const ARTIFACTS = join(ROOT, 'test-artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ServeProcess {
  url: string;
  token: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `miad-lab serve --port 0 --json` and resolves with the address it printed. */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  if (!existsSync(join(ROOT, 'out/renderer/index.html'))) {
    throw new Error('the UI is not built: run `npm run build` first (npm test does)');
  }
  const child = spawn(process.execPath, [join(ROOT, 'bin/miad-lab.mjs'), 'serve', '--port', '0', '--json', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const result = await new Promise<{ url: string; token: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 60 s:\n${out}\n${err}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      try {
        const parsed = JSON.parse(out) as { ok: boolean; result: { url: string; token: string; port: number } };
        clearTimeout(timer);
        resolve(parsed.result);
      } catch {
        // Not a whole JSON document yet.
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${out}\n${err}`));
    });
  });
  return {
    ...result,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run scripts/install-test-deps.sh`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export async function artifactPath(name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

export interface DemoSession {
  serve: ServeProcess;
  browser: Browser;
  page: Page;
  workspace: string;
  close(): Promise<void>;
}

/**
 * The server on a fresh folder, Chromium on its address, and a small demo workspace created
 * through the first screen (its advanced settings), ending in the app frame: where browser tests
 * of an area start.
 */
export async function openDemoWorkspace(
  root: string,
  name: string,
  demo: { train: number; test: number; size: number },
  viewport = { width: 1360, height: 860 },
): Promise<DemoSession> {
  const workspace = join(root, name);
  const serve = await startServe(['--workspace', workspace], { MIAD_LAB_CONFIG_DIR: join(root, 'config'), MIAD_LAB_WORKSPACES_DIR: join(root, 'workspaces') });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport });
  await page.goto(serve.url);
  await page.getByTestId('start-screen').waitFor();
  await page.getByTestId('demo-advanced-toggle').click();
  await page.getByTestId('demo-train-input').fill(String(demo.train));
  await page.getByTestId('demo-test-input').fill(String(demo.test));
  await page.getByTestId('demo-size-input').fill(String(demo.size));
  await page.getByTestId('create-demo-button').click();
  await page.getByTestId('app-frame').waitFor({ timeout: 120_000 });
  return {
    serve,
    browser,
    page,
    workspace,
    async close() {
      await browser.close();
      await serve.stop();
    },
  };
}

/** Ticks exactly these scenarios in the runs page's launch form (one run each). */
export async function pickScenarios(page: Page, names: readonly string[]): Promise<void> {
  const all = page.getByTestId('launch-scenario-all');
  // Twice through "all" clears an indeterminate or full selection alike.
  await all.check();
  await all.uncheck();
  for (const n of names) await page.getByTestId(`launch-scenario-${n}`).check();
}

/** Types a value into the launch form's preset table, which makes it an override. */
export async function setLaunchValue(page: Page, key: string, value: string): Promise<void> {
  await page.getByTestId(`launch-value-${key}`).fill(value);
}
