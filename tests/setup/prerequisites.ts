/**
 * vitest globalSetup: before any test runs, checks that this machine has what the suite drives
 * or compares against — Chromium for the browser tests, the Python references (numpy, Pillow,
 * scikit-learn, SciPy, scikit-image) and PyTorch with torchvision for the parity tests. When
 * something is missing the run stops at once with one message naming it and the one command that
 * installs it all, instead of dozens of tests failing with the same error.
 * `MIAD_SKIP_PREREQUISITES=1` skips the check (e.g. to run a unit test on a machine without them).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { PYTHON } from '../../scripts/parity/reference';
import { CHROMIUM } from '../helpers/browser';
import { REDIS_SERVER } from '../helpers/redis-server';

/** The command that installs every prerequisite (scripts/install-test-deps.sh and install-torch.sh). */
export const INSTALL_COMMAND = 'npm run test:deps';

/** Python modules the references import, with the Debian package that provides each. */
export const PYTHON_MODULES: readonly (readonly [module: string, pkg: string])[] = [
  ['numpy', 'python3-numpy'],
  ['PIL', 'python3-pil'],
  ['sklearn', 'python3-sklearn'],
  ['scipy', 'python3-scipy'],
  ['skimage', 'python3-skimage'],
  ['torch', 'python3-torch'],
  ['torchvision', 'python3-torchvision'],
];

/** What is missing, one line each; empty when everything is there. */
export function missingPrerequisites(chromium = CHROMIUM, python = PYTHON, redisServer = REDIS_SERVER): string[] {
  const missing: string[] = [];
  try {
    accessSync(chromium, constants.X_OK);
  } catch {
    missing.push(`Chromium (no executable at ${chromium}; CHROMIUM_PATH names another)`);
  }
  if (!spawnSync(redisServer, ['--version'], { encoding: 'utf8' }).stdout?.startsWith('Redis server')) {
    missing.push(`redis-server (no Redis at ${redisServer}; the queue tests start one on loopback; Debian: redis-server)`);
  }
  // One interpreter start for every module: prints the ones that fail to import.
  const probe = `import importlib\nfor m in ${JSON.stringify(PYTHON_MODULES.map(([m]) => m))}:\n    try: importlib.import_module(m)\n    except Exception: print(m)\n`;
  const result = spawnSync(python, ['-c', probe], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    missing.push(`Python 3 (${python} ${result.error ? 'cannot be started' : `exited with ${result.status}`})`);
  } else {
    for (const name of result.stdout.split('\n').filter(Boolean)) {
      const pkg = PYTHON_MODULES.find(([m]) => m === name)?.[1] ?? name;
      missing.push(`the Python module ${name} (Debian: ${pkg})`);
    }
  }
  return missing;
}

export default function setup(): void {
  if (process.env['MIAD_SKIP_PREREQUISITES'] === '1') return;
  const missing = missingPrerequisites();
  if (missing.length === 0) return;
  throw new Error(
    `The tests need what this machine lacks:\n  - ${missing.join('\n  - ')}\n` +
      `Install it all with one command (Debian or Ubuntu; uses sudo when not root):\n  ${INSTALL_COMMAND}\n` +
      `(MIAD_SKIP_PREREQUISITES=1 skips this check, for running unit tests without them.)`,
  );
}
