import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import svelteConfig from './svelte.config.js';

/**
 * The CLI is a door like the desktop app and the server (issue 20): its verbs make contract calls
 * through a host (src/main/cli/host.ts), so the contract's validation and rules apply to them as to
 * the app. CLI code may import src/shared/, node and npm packages, and only these modules of the
 * main process, each for the reason given. A verb that truly needs another entry (a queue worker's
 * loop, the benchmark matrix) adds ONE line here naming the module and why; anything it can get
 * through a contract call, it gets there instead (add the call: every door then has it).
 */
export const CLI_ENTRY_MODULES = {
  'core/lab-host': 'createLabHost: the host every door opens; its contract is how the CLI reaches the core',
  'core/paths': 'defaultConfigDir / defaultWorkspacesDir: where a door keeps the app settings and new workspaces',
  'server/server': 'startLabServer: `serve` starts the HTTP door over its own host',
  'core/queue': 'startQueueWorker: `worker` is a queue worker, not a door onto a workspace: it takes cells from Redis and runs them in its own',
};

const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Any relative import into the main process's layers other than the entries above. */
const CLI_FORBIDDEN_IMPORT = `^(?:\\.\\./)+(?:main/)?(?!(?:${Object.keys(CLI_ENTRY_MODULES).map(escapeRegex).join('|')})$)(?:core|server|electron|preload|renderer)(?:/|$)`;
/** The same rule for `await import('…')` (a verb loading a heavy module lazily): esquery's regex cannot hold a `/`, so it is \u002F. */
const CLI_FORBIDDEN_DYNAMIC_IMPORT = `ImportExpression > Literal[value=/${CLI_FORBIDDEN_IMPORT.replaceAll('/', '\\u002F')}/]`;

export default tseslint.config(
  { ignores: ['out/', 'dist/', 'node_modules/', 'test-artifacts/', '.device/', '.gl/', '.whl/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'], svelteConfig } },
  },
  {
    // The pure layer: shared by main, preload and renderer, so it may not reach node, electron or the DOM.
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', 'electron', 'better-sqlite3', 'ws', '../main/*', '../renderer/*', '../preload/*'] }],
      'no-restricted-globals': ['error', 'window', 'document', 'process', 'Buffer', 'require'],
    },
  },
  {
    // The core never imports electron: the same core runs under the server and the CLI.
    files: ['src/main/core/**/*.ts', 'src/main/server/**/*.ts', 'src/main/cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['electron', 'better-sqlite3'], patterns: ['../electron/*', '../../electron/*'] }] },
  },
  {
    // The CLI reaches the core only through the host (CLI_ENTRY_MODULES above).
    files: ['src/main/cli/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: CLI_FORBIDDEN_DYNAMIC_IMPORT,
          message: `The CLI is a door: a dynamic import of a core internal is still one. Allowed: ${Object.keys(CLI_ENTRY_MODULES).join(', ')} and src/shared/ (CLI_ENTRY_MODULES in eslint.config.js).`,
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', 'better-sqlite3'],
          patterns: [
            {
              regex: CLI_FORBIDDEN_IMPORT,
              message: `The CLI is a door: make a contract call through the host (src/main/cli/host.ts) instead of importing core internals. Allowed here: ${Object.entries(CLI_ENTRY_MODULES)
                .map(([module, why]) => `${module} (${why})`)
                .join('; ')}; and src/shared/. See CLI_ENTRY_MODULES in eslint.config.js.`,
            },
          ],
        },
      ],
    },
  },
  {
    // better-sqlite3 lives in the store alone (DESIGN section 11).
    files: ['src/main/core/store/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['electron'] }] },
  },
  {
    // The renderer talks to the lab only through lib/api; no node or electron.
    files: ['src/renderer/**/*.ts', 'src/renderer/**/*.svelte'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['node:*', 'electron', '**/main/**', '**/preload/**'] }] },
  },
);
