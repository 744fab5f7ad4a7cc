import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INSTALL_COMMAND, missingPrerequisites } from '../setup/prerequisites';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();

describe('the test prerequisites check', () => {
  it('finds nothing missing on a machine set up by .ci/run', () => {
    expect(missingPrerequisites()).toEqual([]);
  });

  it('names a missing browser, a missing interpreter and each module that does not import', async () => {
    const dir = await tmp();
    // An interpreter on which torch and skimage do not import (it prints what the probe would).
    const python = join(dir, 'python3');
    writeFileSync(python, '#!/bin/sh\nprintf "skimage\\ntorch\\n"\n');
    chmodSync(python, 0o755);
    expect(missingPrerequisites(join(dir, 'no-chromium'), python)).toEqual([
      `Chromium (no executable at ${join(dir, 'no-chromium')}; CHROMIUM_PATH names another)`,
      'the Python module skimage (Debian: python3-skimage)',
      'the Python module torch (Debian: python3-torch)',
    ]);
    expect(missingPrerequisites(undefined, join(dir, 'no-python'))).toEqual([`Python 3 (${join(dir, 'no-python')} cannot be started)`]);
  });

  it('the install command it names is a script of package.json that runs both installers', async () => {
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as { scripts: Record<string, string> };
    const name = INSTALL_COMMAND.replace(/^npm run /, '');
    expect(pkg.scripts[name]).toBe('bash scripts/install-test-deps.sh && bash scripts/install-torch.sh');
  });
});
