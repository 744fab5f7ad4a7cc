/**
 * What the queue tests share: a coordinator workspace with MIAD-mini (two scenarios, 64 px)
 * imported, real `miad-lab worker` processes on a real Redis, and tiny fast cells of two methods.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';
import { runCli } from '../../src/main/cli/main';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { createLab, type Lab } from '../../src/main/core/lab';
import type { CellSpec } from '../../src/main/core/queue';
import type { BenchmarkQueue, MergedCell } from '../../src/main/core/queue/coordinator';

export const SCENARIOS = ['nut_and_bolt', 'wind_turbine'] as const;
const CLI = fileURLToPath(new URL('../../bin/miad-lab.mjs', import.meta.url));

/** The U-Net Auto-Encoder at 32 px, 16 images, 4 per batch: a checkpoint every 4 steps. */
export function autoencoderCell(scenario: string, epochs = 3, seed = 0): CellSpec {
  return { method: 'autoencoder', preset: 'fast', scenarios: [scenario], seed, overrides: { inputSize: 32, baseWidth: 4, latentChannels: 4, trainImages: 16, batchSize: 4, epochs, checkpointSteps: 4 } };
}

/** PatchCore's fast preset (ResNet18) at 64 px on 16 images. */
export function patchcoreCell(scenario: string, seed = 0): CellSpec {
  return { method: 'patchcore', preset: 'fast', scenarios: [scenario], seed, overrides: { inputSize: 64, trainImages: 16, batchSize: 8 } };
}

/** A coordinator workspace `<root>/ws` with MIAD-mini's two scenarios imported as dataset 1. */
export async function coordinatorWorkspace(root: string): Promise<Lab> {
  await generateMiadMini({ outDir: join(root, 'data'), scenarios: [...SCENARIOS], train: 16, test: 12, size: 64, seed: 5 });
  const ws = join(root, 'ws');
  (await createLab(ws, { create: true })).close();
  expect(await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], { out: () => undefined, err: () => undefined })).toBe(0);
  const lab = await createLab(ws);
  afterAll(() => lab.close());
  return lab;
}

export interface WorkerProcess {
  child: ChildProcess;
  name: string;
  lines: string[];
  /** Resolves with the first output line (seen or to come) matching `pattern`. */
  waitForLine(pattern: RegExp): Promise<string>;
  exited: Promise<void>;
}

/** `miad-lab worker` as its own process (wasm backend, a 2 s lock), stopped after the test file. */
export async function startWorkerProcess(url: string, cacheDir: string): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--cache', cacheDir, '--backend', 'wasm', '--lock-ms', '2000', '--stalled-ms', '1000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stdout!.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  afterAll(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  const waitForLine = (pattern: RegExp): Promise<string> => {
    const seen = lines.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      waiters.push({ pattern, resolve });
      void exited.then(() => reject(new Error(`the worker exited before printing ${pattern}; its output:\n${lines.join('\n')}`)));
    });
  };
  const ready = await waitForLine(/^\[[^\]]+\] worker (\S+) takes cells from/);
  return { child, name: /worker (\S+) takes cells/.exec(ready)![1]!, lines, waitForLine, exited };
}

/** Resolves once `count` cells have been merged through `queue` (from now on). */
export function mergedCells(queue: BenchmarkQueue, count: number): Promise<MergedCell[]> {
  return new Promise((resolve) => {
    const got: MergedCell[] = [];
    const off = queue.onMerged((cell) => {
      got.push(cell);
      if (got.length === count) {
        off();
        resolve(got);
      }
    });
  });
}
