/**
 * Multi-threaded tfjs-backend-wasm under Node. The package ships a threaded SIMD binary but turns it
 * off in Node (flag WASM_HAS_MULTITHREAD_SUPPORT is false there, tfjs issue #3830) because its
 * Emscripten loader hands Blob URLs to `new Worker()` and to `importScripts`, which Node's
 * worker_threads cannot load ("ERR_WORKER_PATH ... blob:nodedata:...").
 *
 * The loader builds exactly two Blobs while the backend initialises: the main script
 * (`var WasmBackendModuleThreadedSimd = <factory>`) and the worker script. For the duration of the
 * initialisation we wrap `Blob` to remember their (string) contents and `URL.createObjectURL` to
 * write them to a temporary folder and return the file path instead of a blob: URL; the worker
 * script is patched to import the main script from its file. Everything else is the package's own
 * code. Both globals are restored right after.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabError } from '../../../shared/errors';

/**
 * The wasm thread-pool size `initBackend` uses when the caller names none: env MIAD_WASM_THREADS
 * when set (a positive integer; 1 = no workers), else 1: threads are opt-in.
 *
 * What threads buy (issue 13 item 6; bench/conv-backprop-input.ts on a shared 2-core machine, wasm
 * with our composed Conv2DBackpropInput): a training step of a 4-layer conv net (8×64², 32
 * channels, forward + tf.valueAndGrads + SGD) ran 1.42× and 1.32× faster with 2 threads than with 1
 * (250 and 270 ms against 356 and 352), 2.03× (180 against 366 ms) when the second core was idle,
 * and between 0.76× and 1.25× in four runs while other jobs held the cores. The weights after 3
 * seeded SGD steps were bit-identical with 1 and 2 threads (XNNPACK splits output tiles, not
 * reductions), so a resumed run does not depend on the thread count.
 * Why not the default: in a test-suite run (tests/nn/parity.test.ts, the fork's first file, the other
 * fork starting wasm too, both cores busy) the threaded initialisation never finished: the backend's
 * init promise stayed pending with its workers idle for 8 minutes. It did not recur in 28 lone
 * starts. A 1.3× gain is not worth a job that can hang, so threads are for whoever asks, and a start
 * that hangs fails after WASM_THREADED_INIT_MS (backends.ts) with a message naming MIAD_WASM_THREADS
 * instead of waiting forever.
 */
export function defaultWasmThreads(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MIAD_WASM_THREADS?.trim();
  if (raw) {
    if (!/^\d+$/.test(raw) || Number(raw) < 1) {
      throw new LabError(`MIAD_WASM_THREADS must be a positive integer (1 turns wasm threads off), not ${JSON.stringify(raw)}`, 'ValidationError');
    }
    return Number(raw);
  }
  return 1;
}

const MAIN_PREFIX = 'var WasmBackendModuleThreadedSimd';
/** The branch of the worker script that turns the main-script Blob into a blob: URL. */
const WORKER_IMPORT =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';

/**
 * The factory's source refers to the bundler's names for Node modules (`require$$0` for 'fs', ...),
 * which only exist inside the package's bundle; a preamble redeclares the ones it uses.
 */
function requirePreamble(factorySource: string): string {
  const bundle = readFileSync(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'), 'utf8');
  const lines: string[] = [];
  for (const m of bundle.matchAll(/(require\$\$\d+) = require\('([^']+)'\)/g)) {
    const [, alias, mod] = m as unknown as [string, string, string];
    if (new RegExp(`\\b${alias.replace(/\$/g, '\\$')}\\b`).test(factorySource)) lines.push(`var ${alias} = require(${JSON.stringify(mod)});`);
  }
  if (/\bcommonjsGlobal\b/.test(factorySource)) lines.push('var commonjsGlobal = globalThis;');
  return lines.join('\n') + '\n';
}

export interface ThreadedInit {
  /** Restores Blob and URL.createObjectURL; call once the wasm backend has initialised (or failed). */
  restore(): void;
  /** Where the two scripts were written (removed when the process exits). */
  dir: string;
}

/**
 * Prepares the globals so the next wasm backend initialisation loads the threaded binary with
 * `threads` workers. Must run before `tf.setBackend('wasm')` is first called; pair with restore().
 */
export function prepareWasmThreads(threads: number, setThreadsCount: (n: number) => void): ThreadedInit {
  const dir = mkdtempSync(join(tmpdir(), 'miad-wasm-threads-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const contents = new WeakMap<object, string>();
  const OriginalBlob = globalThis.Blob;
  const originalCreate = URL.createObjectURL.bind(URL);
  let mainPath: string | null = null;

  class RecordingBlob extends OriginalBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (!parts || !parts.every((p) => typeof p === 'string')) return;
      const text = (parts as string[]).join('');
      contents.set(this, text);
      // The main script only becomes a URL inside the worker, so it is written out as soon as it exists.
      if (text.startsWith(MAIN_PREFIX)) {
        mainPath = join(dir, 'tfjs-backend-wasm-threaded-simd.main.js');
        writeFileSync(mainPath, requirePreamble(text) + text);
      }
    }
  }
  globalThis.Blob = RecordingBlob as typeof Blob;
  URL.createObjectURL = (obj: Blob) => {
    const text = contents.get(obj);
    if (text === undefined) return originalCreate(obj);
    if (text.startsWith(MAIN_PREFIX) && mainPath !== null) return mainPath;
    if (!text.includes(WORKER_IMPORT) || mainPath === null) return originalCreate(obj);
    const workerPath = join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js');
    writeFileSync(workerPath, text.replace(WORKER_IMPORT, `importScripts(${JSON.stringify(mainPath)});`));
    return workerPath;
  };
  // The backend caps its pool at emscripten_num_logical_cores() / 2 (it assumes two hyperthreads
  // per core), read from os.cpus() while it initialises; report enough cores for `threads`.
  const originalCpus = os.cpus;
  const realCpus = originalCpus();
  if (realCpus.length < 2 * threads) {
    os.cpus = () => Array.from({ length: 2 * threads }, (_, i) => realCpus[i % realCpus.length] as os.CpuInfo);
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  return {
    dir,
    restore() {
      globalThis.Blob = OriginalBlob;
      URL.createObjectURL = originalCreate;
      os.cpus = originalCpus;
    },
  };
}
