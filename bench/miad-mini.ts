/**
 * Benchmark of the MIAD-mini generator: 7 scenarios × (100 train + 30 test) at 256 px into a temp
 * folder, images/s and MB/s. Reference, measured in the same run: a naive baseline of the same
 * rendering with the PNG encoder at zlib level 9 with the adaptive filter heuristic and one file
 * write at a time (what a straightforward implementation does). Run: npx tsx bench/miad-mini.ts
 * [train] [test] [size]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMiadMini, MIAD_MINI_PNG, type MiadMiniOptions } from '../src/main/core/datasets/miad-mini/generate';

const train = Number(process.argv[2] ?? 100);
const test = Number(process.argv[3] ?? 30);
const size = Number(process.argv[4] ?? 256);

async function run(label: string, extra: Partial<MiadMiniOptions>) {
  const dir = await mkdtemp(join(tmpdir(), 'miad-mini-bench-'));
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const report = await generateMiadMini({ outDir: join(dir, 'out'), seed: 0, train, test, size, ...extra });
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(cpu0);
    const cpuS = (c.user + c.system) / 1e6;
    const ips = report.totals.images / s;
    console.log(
      `${label.padEnd(44)} ${report.totals.images} images + ${report.totals.masks} masks, ${(report.totals.bytes / 1e6).toFixed(1)} MB in ${s.toFixed(2)} s ` +
        `(cpu ${cpuS.toFixed(2)} s): ${ips.toFixed(1)} images/s = ${(ips * 60).toFixed(0)}/min, ${(report.totals.bytes / 1e6 / s).toFixed(1)} MB/s`,
    );
    return { ips, bytes: report.totals.bytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(`MIAD-mini: 7 scenarios × (${train} train + ${test} test) at ${size} px, one thread`);
const ours = await run(`ours (zlib ${MIAD_MINI_PNG.level}, Sub filter, 8 writes)`, {});
const naive = await run('baseline (zlib 9, adaptive filter, 1 write)', { png: { level: 9, filter: 'adaptive' }, writeConcurrency: 1 });
console.log(`speed ratio ours / baseline: ${(ours.ips / naive.ips).toFixed(2)}×; size ratio: ${(ours.bytes / naive.bytes).toFixed(3)}`);
