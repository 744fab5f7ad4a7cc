/**
 * Benchmark of the memory bank's two residences on the wasm backend (components/nearest-neighbour.ts):
 * 'device' keeps the bank in the wasm heap as tensors made once; 'host' keeps it in the host
 * Float32Array and uploads each chunk once per `nearest` call — the only way a bank over ~3.8 GiB
 * (PatchCore `full` at MIAD scale: 784,000 × 1,536 float32, 4.8 GB) can be searched on wasm.
 * The question is what host residence costs when the bank would fit: time of `nearest` for one
 * 224² image's patches (28×28 = 784 query rows) and the process RSS after building the bank.
 *
 * Each mode runs in its own child process (the wasm heap never shrinks, so RSS would otherwise carry
 * over), on the same seeded bank and queries; the parent prints host ÷ device and checks that both
 * found the same indices.
 *
 *   npx tsx bench/memory-bank-residence.ts [--rows 60000] [--width 1536] [--queries 784] [--repeat 2] [--threads 1]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/main/core/engine/backends';
import { mulberry32 } from '../src/main/core/engine/random';
import { MemoryBank } from '../src/main/core/methods/components/nearest-neighbour';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '60000' },
    width: { type: 'string', default: '1536' },
    queries: { type: 'string', default: '784' },
    repeat: { type: 'string', default: '2' },
    threads: { type: 'string', default: '1' },
    // Internal: the child that measures one mode and prints one JSON line.
    mode: { type: 'string', default: '' },
  },
});
const rows = Number.parseInt(values.rows, 10);
const width = Number.parseInt(values.width, 10);
const nq = Number.parseInt(values.queries, 10);
const repeat = Number.parseInt(values.repeat, 10);
const threads = Number.parseInt(values.threads, 10);

interface ModeResult {
  mode: 'device' | 'host';
  residence: string;
  buildSeconds: number;
  firstSeconds: number;
  bestSeconds: number;
  rssAfterBuild: number;
  rssAfterSearch: number;
  wasmHeapAfterSearch: number;
  indicesSha: string;
  distanceSum: number;
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;

function fill(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r(); // non-negative, as post-ReLU CNN features are
  return out;
}

async function child(mode: 'device' | 'host'): Promise<ModeResult> {
  await initBackend('wasm', { wasmThreads: threads });
  const data = fill(rows * width, 1);
  const q = fill(nq * width, 2);
  const queries = tf.tensor2d(q, [nq, width]);
  let t = performance.now();
  const bank = new MemoryBank(data, width, { residence: mode });
  const buildSeconds = (performance.now() - t) / 1000;
  const rssAfterBuild = process.memoryUsage().rss;
  const times: number[] = [];
  let result: Awaited<ReturnType<MemoryBank['nearest']>> | null = null;
  try {
    for (let i = 0; i < repeat; i++) {
      t = performance.now();
      result = await bank.nearest(queries);
      times.push((performance.now() - t) / 1000);
    }
  } finally {
    bank.dispose();
    queries.dispose();
  }
  const wasm = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm;
  return {
    mode,
    residence: bank.residence,
    buildSeconds,
    firstSeconds: times[0]!,
    bestSeconds: Math.min(...times.slice(repeat > 1 ? 1 : 0)),
    rssAfterBuild,
    rssAfterSearch: process.memoryUsage().rss,
    wasmHeapAfterSearch: wasm.HEAPU8.length,
    indicesSha: createHash('sha256').update(new Uint8Array(result!.indices.buffer)).digest('hex').slice(0, 16),
    distanceSum: result!.distances.reduce((a, b) => a + b, 0),
  };
}

if (values.mode === 'device' || values.mode === 'host') {
  console.log(JSON.stringify(await child(values.mode)));
} else {
  console.log(`wasm (${threads} thread${threads === 1 ? '' : 's'}), bank ${rows.toLocaleString('en')} × ${width} float32 (${mib(rows * width * 4)}), ${nq} query rows, ${repeat} call${repeat === 1 ? '' : 's'} per mode`);
  const results: Record<string, ModeResult> = {};
  for (const mode of ['device', 'host'] as const) {
    const args = [...process.execArgv, import.meta.filename, '--mode', mode, '--rows', String(rows), '--width', String(width), '--queries', String(nq), '--repeat', String(repeat), '--threads', String(threads)];
    const out = execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as ModeResult;
    results[mode] = r;
    console.log(
      `${mode.padEnd(6)} residence=${r.residence} build ${r.buildSeconds.toFixed(2)} s, nearest first ${r.firstSeconds.toFixed(2)} s, best ${r.bestSeconds.toFixed(2)} s; ` +
        `RSS after build ${mib(r.rssAfterBuild)}, after search ${mib(r.rssAfterSearch)}, wasm heap ${mib(r.wasmHeapAfterSearch)}`,
    );
  }
  const d = results.device!;
  const h = results.host!;
  console.log(`same indices: ${d.indicesSha === h.indicesSha} (${h.indicesSha}), distance sums ${d.distanceSum.toFixed(3)} / ${h.distanceSum.toFixed(3)}`);
  console.log(`ratio host ÷ device, nearest (best call): ${(h.bestSeconds / d.bestSeconds).toFixed(2)}×; first call: ${(h.firstSeconds / d.firstSeconds).toFixed(2)}×`);
  console.log(`RSS after build host ÷ device: ${(h.rssAfterBuild / d.rssAfterBuild).toFixed(2)}×`);
}
