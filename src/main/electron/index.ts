/**
 * Entry of the Electron main process (built by electron-vite to out/main/index.js, the
 * package's "main"). Runs startDesktopApp synchronously so the image scheme is registered
 * before `ready`; everything else lives in app.ts, testable without Electron.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLabHost } from '../core/lab-host';
import { configureSqlite } from '../core/store/store';
import { utilityProcess } from 'electron';
import { startDesktopApp } from './app';
import { electronJobSpawner } from './jobs';
import { mainDirOf } from './app-url';

const mainDir = mainDirOf(import.meta.url);

// better-sqlite3 built for Electron's ABI by scripts/electron-sqlite.mjs (postinstall).
const electronSqlite = join(mainDir, '../../node_modules/.miad-electron/better-sqlite3/build/Release/better_sqlite3.node');
configureSqlite({ nativeBinding: existsSync(electronSqlite) ? electronSqlite : undefined });

startDesktopApp({
  // Jobs run in utility processes of the bundled worker entry (electron.vite.config.ts: job-worker).
  createHost: (options) => createLabHost({ ...options, jobs: { spawnWorker: electronJobSpawner(utilityProcess, join(mainDir, 'job-worker.js')) } }),
  mainDir,
});
