/**
 * The lint rule that keeps the CLI a door (eslint.config.js, CLI_ENTRY_MODULES): ESLint's own API
 * on CLI source text. A verb importing a core internal gets the error naming the way out; one that
 * imports the host, src/shared/ and the listed entries gets none; and the real CLI tree is clean.
 */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VERB = 'src/main/cli/verbs/fixture-verb.ts';

async function restricted(code: string, filePath = VERB): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}/${filePath}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the CLI import rule', () => {
  it('refuses core internals, the server and electron from CLI code, naming the host and the allowed list', async () => {
    const cases = [
      "import { createLab } from '../../core/lab';",
      "import { getRun } from '../../core/store/runs-repo';",
      "import { AppSettings } from '../../core/workspace/app-settings';",
      "import { METHODS } from '../../core/methods/registry';",
      "import type { Lab } from '../../core/lab';",
      "export { importFolder } from '../../core/datasets/import/importer';",
      "import { handleApi } from '../../server/http';",
      "import { setupIpc } from '../../electron/ipc';",
      "import Database from 'better-sqlite3';",
    ];
    for (const code of cases) {
      const messages = await restricted(`${code}\nexport const x = 1;\n`);
      expect(messages, code).toHaveLength(1);
      if (!code.includes('better-sqlite3')) {
        expect(messages[0], code).toMatch(/make a contract call through the host \(src\/main\/cli\/host\.ts\)/);
        expect(messages[0], code).toMatch(/Allowed here: core\/lab-host .*core\/paths .*server\/server/);
      }
    }
    // Files right under src/main/cli/ too (one level up).
    expect(await restricted("import { createLab } from '../core/lab';\n", 'src/main/cli/fixture.ts')).toHaveLength(1);
  });

  it('refuses a dynamic import of a core internal too, and allows one of a listed entry', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const syntax = async (code: string) => {
      const [result] = await eslint.lintText(code, { filePath: `${ROOT}/${VERB}` });
      return result!.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
    };
    const refused = await syntax("export const m = await import('../../core/store/runs-repo');\n");
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/a dynamic import of a core internal is still one/);
    expect(await syntax("export const m = await import('../../core/lab');\n")).toHaveLength(1);
    expect(await syntax("export const m = await import('../../core/queue');\nexport const n = await import('../../../shared/contract');\n")).toEqual([]);
  });

  it('lets CLI code import the host, the listed entry modules, src/shared/ and packages', async () => {
    const code = [
      "import { resolve } from 'node:path';",
      "import sharp from 'sharp';",
      "import { withWorkspace } from '../host';",
      "import { UsageError } from '../verb';",
      "import { createLabHost } from '../../core/lab-host';",
      "import { defaultConfigDir } from '../../core/paths';",
      "import { startLabServer } from '../../server/server';",
      "import type { CallResult } from '../../../shared/contract';",
      "import { BACKEND_NAMES } from '../../../shared/backends';",
      'export const all = [resolve, sharp, withWorkspace, UsageError, createLabHost, defaultConfigDir, startLabServer, BACKEND_NAMES];',
      'export type R = CallResult<"runs:get">;',
    ].join('\n');
    expect(await restricted(code)).toEqual([]);
    // The rule is for CLI code: the core itself imports its own modules freely.
    expect(await restricted("import { createLab } from './lab';\nexport const x = createLab;\n", 'src/main/core/fixture.ts')).toEqual([]);
  });

  it('finds no core internal imported by the CLI as it is', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const results = await eslint.lintFiles(['src/main/cli/**/*.ts']);
    expect(results.length).toBeGreaterThan(10);
    const found = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${r.filePath}:${m.line} ${m.message.slice(0, 80)}`));
    expect(found).toEqual([]);
  }, 60_000);
});
