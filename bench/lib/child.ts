/**
 * What the training benches share. wasm fixes its thread count at a process's first wasm start,
 * so each thread count is measured in a child process of the bench script itself (`--child N`),
 * which prints its figures as one JSON line last; and a training step is timed the same way in
 * each: one warm-up step, then `iters` steps, as images per second.
 */
import { execFile } from 'node:child_process';

/**
 * Runs `script` (the bench's own file) again as `--child <threads>` with `args`; resolves with the
 * JSON of its last stdout line. `echo` prints the lines before it (a profile, an A/B table).
 */
export function runBenchChild<T = Record<string, number>>(script: string, threads: number, args: readonly string[], options: { timeoutMs?: number; echo?: boolean } = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const argv = ['--import', 'tsx', script, '--child', String(threads), ...args];
    execFile(process.execPath, argv, { maxBuffer: 16 * 1024 * 1024, timeout: options.timeoutMs ?? 7_200_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`child (${threads} threads) failed: ${stderr || error.message}`));
      const lines = stdout.trim().split('\n');
      if (options.echo) console.log(lines.slice(0, -1).join('\n'));
      resolve(JSON.parse(lines.pop()!) as T);
    });
  });
}

/** Images per second of `step(k)` over steps 1..iters of `batch` images, after step 0 as a warm-up. */
export async function timeTrainingSteps(iters: number, batch: number, step: (k: number) => Promise<void>): Promise<number> {
  await step(0);
  const t0 = performance.now();
  for (let i = 1; i <= iters; i++) await step(i);
  return (iters * batch) / ((performance.now() - t0) / 1000);
}
