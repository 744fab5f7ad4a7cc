/**
 * Entry of a job process. Under the server and the CLI the main process forks this file with
 * tsx's loader (node-spawn.ts); in the desktop app electron-vite bundles it as
 * `out/main/job-worker.js`, which Electron's utilityProcess forks (electron/jobs.ts). It serves
 * one job of the product's kinds, or the standalone demo job (kinds/demo.ts), and exits.
 */
import { PRODUCT_KINDS } from './registry';
import { demoKind } from './kinds/demo';
import { electronWorkerPort, nodeWorkerPort, runWorker } from './worker';

const parentPort = (process as NodeJS.Process & { parentPort?: Parameters<typeof electronWorkerPort>[0] }).parentPort;
runWorker(parentPort ? electronWorkerPort(parentPort) : nodeWorkerPort(), { kinds: { ...PRODUCT_KINDS, [demoKind.name]: demoKind } });
