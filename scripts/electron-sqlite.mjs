#!/usr/bin/env node
// postinstall: builds a second copy of better-sqlite3's addon for Electron's ABI, beside the Node one.
//
// The CLI, the server and the tests run under Node and load node_modules/better-sqlite3 as built for
// Node. The desktop app's main process runs under Electron, whose ABI differs, so it needs its own
// build; rebuilding the package in place (electron-rebuild) would break the Node side. We copy the
// package to node_modules/.miad-electron/better-sqlite3 and build it there for Electron, first from a
// prebuilt binary (prebuild-install), else from source (node-gyp with Electron's headers). The
// desktop entry loads it through better-sqlite3's `nativeBinding` option.
//
// Skipped, with a message, where Electron's binary is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD)
// or the machine is offline: the desktop window cannot open there anyway, and nothing else needs it.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const target = join(root, 'node_modules', '.miad-electron', 'better-sqlite3');
const built = join(target, 'build', 'Release', 'better_sqlite3.node');

function say(message) {
  process.stdout.write(`[electron-sqlite] ${message}\n`);
}

if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  say('ELECTRON_SKIP_BINARY_DOWNLOAD is set: no Electron build of better-sqlite3 (the desktop app needs one; rerun `npm run rebuild:electron` once Electron is installed).');
  process.exit(0);
}
let electronVersion;
let sqliteDir;
try {
  electronVersion = require('electron/package.json').version;
  sqliteDir = dirname(require.resolve('better-sqlite3/package.json'));
} catch {
  say('electron or better-sqlite3 is not installed: nothing to build.');
  process.exit(0);
}
if (existsSync(built) && process.argv.includes('--if-missing')) {
  say(`already built for Electron ${electronVersion}.`);
  process.exit(0);
}
rmSync(target, { recursive: true, force: true });
mkdirSync(dirname(target), { recursive: true });
cpSync(sqliteDir, target, { recursive: true, filter: (src) => !src.includes(join('better-sqlite3', 'build')) });

const bin = (name) => join(root, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);
// Electron's headers, not the local Node's: drop an npm-configured nodedir for these children.
const env = { ...process.env, npm_config_nodedir: '' };
const run = (cmd, args) => spawnSync(cmd, args, { cwd: target, stdio: 'inherit', env, shell: process.platform === 'win32' }).status === 0;
// npm runs lifecycle scripts with the path of its bundled node-gyp in npm_config_node_gyp.
const nodeGyp = process.env.npm_config_node_gyp;

const ok =
  run(bin('prebuild-install'), ['--runtime', 'electron', '--target', electronVersion, '--arch', process.arch]) ||
  (nodeGyp !== undefined &&
    run(process.execPath, [nodeGyp, 'rebuild', '--release', `--target=${electronVersion}`, '--runtime=electron', '--dist-url=https://electronjs.org/headers']));
if (!ok || !existsSync(built)) {
  say(`could not build better-sqlite3 for Electron ${electronVersion} (offline?). The CLI, server and tests are unaffected; the desktop app needs it: rerun \`npm run rebuild:electron\` when online.`);
  process.exit(0);
}
say(`built better-sqlite3 for Electron ${electronVersion}: ${built}`);
