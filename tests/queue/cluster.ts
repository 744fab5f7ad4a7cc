/**
 * A queue cluster on this machine, for the queue tests (helpers.ts) and bench/queue-matrix.ts,
 * without vitest: a coordinator workspace with MIAD-mini (two scenarios, 64 px) imported, tiny fast
 * cells of two methods, and `miad-lab worker` as its own process (stderr kept line by line).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/main/cli/main';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { createLab, type Lab } from '../../src/main/core/lab';
import type { CellSpec } from '../../src/main/core/queue';

const CLI = fileURLToPath(new URL('../../bin/miad-lab.mjs', import.meta.url));

export const SCENARIOS = ['nut_and_bolt', 'wind_turbine'] as const;

/** The U-Net Auto-Encoder at 32 px, 16 images, 4 per batch: a checkpoint every 4 steps. */
export function autoencoderCell(scenario: string, epochs = 3, seed = 0): CellSpec {
  return { method: 'autoencoder', preset: 'fast', scenarios: [scenario], seed, overrides: { inputSize: 32, baseWidth: 4, latentChannels: 4, trainImages: 16, batchSize: 4, epochs, checkpointSteps: 4 } };
}

/** PatchCore's fast preset (ResNet18) at 64 px on 16 images. */
export function patchcoreCell(scenario: string, seed = 0): CellSpec {
  return { method: 'patchcore', preset: 'fast', scenarios: [scenario], seed, overrides: { inputSize: 64, trainImages: 16, batchSize: 8 } };
}

/** A coordinator workspace `<root>/ws` with MIAD-mini's two scenarios imported as dataset 1 (the caller closes it). */
export async function makeCoordinatorWorkspace(root: string): Promise<Lab> {
  await generateMiadMini({ outDir: join(root, 'data'), scenarios: [...SCENARIOS], train: 16, test: 12, size: 64, seed: 5 });
  const ws = join(root, 'ws');
  (await createLab(ws, { create: true })).close();
  const code = await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], { out: () => undefined, err: () => undefined });
  if (code !== 0) throw new Error(`importing MIAD-mini into ${ws} exited with ${code}`);
  return createLab(ws);
}

export interface WorkerProcess {
  child: ChildProcess;
  name: string;
  lines: string[];
  /** Resolves with the first output line (seen or to come) matching `pattern`. */
  waitForLine(pattern: RegExp): Promise<string>;
  exited: Promise<void>;
  /** SIGTERM, and resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * `miad-lab worker` on the wasm backend; resolves once it takes cells. The lock defaults to 2 s
 * (a dead worker's cell is taken over within seconds); a shorter one risks a false stall on a busy machine.
 */
export async function spawnWorkerProcess(url: string, cacheDir: string, lockMs = 2000): Promise<WorkerProcess> {
  const args = [CLI, 'worker', '--queue', url, '--cache', cacheDir, '--backend', 'wasm', '--lock-ms', String(lockMs), '--stalled-ms', String(Math.max(500, lockMs / 2))];
  const child = spawn(process.execPath, args, {
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
  const waitForLine = (pattern: RegExp): Promise<string> => {
    const seen = lines.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      waiters.push({ pattern, resolve });
      void exited.then(() => reject(new Error(`the worker exited before printing ${pattern}; its output:\n${lines.join('\n')}`)));
    });
  };
  const ready = await waitForLine(/^\[[^\]]+\] worker (\S+) takes cells from/);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return { child, name: /worker (\S+) takes cells/.exec(ready)![1]!, lines, waitForLine, exited, stop };
}

