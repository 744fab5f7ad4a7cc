/**
 * What a benchmark will cost before it starts: each cell's training time on the backend by the
 * rule `train` prints (runs/estimate.ts: training FLOPs ÷ the speed measured here, else an assumed
 * order of magnitude, and it says which), the disk its anomaly maps and the frozen-feature cache
 * will take, and which cells cannot run here and why. Finished cells cost nothing more.
 */
import type { BenchCellEstimate, BenchEstimate } from '../../../shared/calls/bench';
import { getMethod } from '../methods/registry';
import { formatDuration, estimateTraining } from '../runs/estimate';
import { benchSpec, listCells } from '../store/bench-repo';
import type { Store } from '../store/store';
import { cellOverrides, cellWeights, kindBlocked } from './plan';

/** A map pack stores float16 maps at the input size (evaluation/map-pack.ts). */
const MAP_BYTES_PER_PIXEL = 2;

/**
 * Cached feature values per input pixel of each backbone, as the methods cache them (fp16): the
 * ResNets' layer2 (stride 8) and layer3 (stride 16), e.g. WRN50-2 512/8² + 1024/16² = 12; UniAD's
 * EfficientNet-b4 272 channels at stride 16. An order of magnitude: layers a preset changes are not followed.
 */
const CACHE_VALUES_PER_PIXEL: Record<string, number> = {
  wide_resnet50_2: 512 / 64 + 1024 / 256,
  resnet18: 128 / 64 + 256 / 256,
  efficientnet_b4: 272 / 256,
  tf_efficientnet_b4: 272 / 256,
};

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.round(bytes / 1e3)} kB`;
}

export async function estimateBenchmark(
  ctx: { store: Store; workspaceDir: string; runDir: (id: number) => string; kinds: readonly string[] },
  benchmarkId: number,
  backend: string,
): Promise<BenchEstimate> {
  const { store } = ctx;
  const { spec, datasetId } = benchSpec(store, benchmarkId);
  const count = (scenario: string, split: 'train' | 'test') => store.listSamples({ datasetId, scenario, split, offset: 0, limit: 1 }).total;
  const cells: BenchCellEstimate[] = [];
  const caches = new Map<string, number>();
  for (const cell of listCells(store, benchmarkId)) {
    const definition = getMethod(cell.method);
    const overrides = cellOverrides(spec, cell);
    const { config } = definition.resolveConfig(cell.preset, overrides);
    const weights = await cellWeights(ctx.workspaceDir, spec, cell);
    const blocked = kindBlocked(cell.method, ctx.kinds) ?? weights.blocked;
    const trainPer = cell.scenarios.map((s) => count(s, 'train'));
    const tests = cell.scenarios.reduce((n, s) => n + count(s, 'test'), 0);
    const mapBytes = tests * config.inputSize * config.inputSize * MAP_BYTES_PER_PIXEL;
    let seconds: number | null = null;
    let speedSource: BenchCellEstimate['speedSource'] = null;
    if (!blocked) {
      const e = await estimateTraining(store, ctx.runDir, { method: cell.method, preset: cell.preset, overrides, availableImages: trainPer.reduce((a, n) => a + n, 0), scenarioImages: trainPer, backend });
      seconds = e.seconds;
      speedSource = e.speedSource;
      if (weights.arch !== null) {
        cell.scenarios.forEach((s, i) => {
          const key = `${weights.arch}|${config.inputSize}|${s}`;
          const perImage = config.inputSize * config.inputSize * (CACHE_VALUES_PER_PIXEL[weights.arch!] ?? 4) * 2;
          caches.set(key, (trainPer[i]! + count(s, 'test')) * perImage);
        });
      }
    }
    cells.push({ cellId: cell.id, method: cell.method, scenarios: cell.scenarios, seed: cell.seed, preset: cell.preset, seconds, speedSource, mapBytes, blocked });
  }
  const finished = new Set(listCells(store, benchmarkId).filter((c) => c.state === 'done').map((c) => c.id));
  const toRun = cells.filter((c) => c.blocked === null && !finished.has(c.cellId));
  const totalSeconds = toRun.reduce((a, c) => a + (c.seconds ?? 0), 0);
  const mapBytes = toRun.reduce((a, c) => a + c.mapBytes, 0);
  const cacheBytes = [...caches.values()].reduce((a, n) => a + n, 0);
  const blockedCells = cells.filter((c) => c.blocked !== null);
  const assumed = toRun.filter((c) => c.speedSource === 'assumed').length;
  const text = [
    `${cells.length} cell${cells.length === 1 ? '' : 's'} (${finished.size} done, ${blockedCells.length} cannot run here) on ${backend}: ${formatDuration(totalSeconds)} of training for the ${toRun.length} to run` +
      (assumed ? ` (${assumed} at an assumed speed: no run of theirs measured on ${backend} here yet)` : ''),
    `disk: about ${formatBytes(mapBytes)} of anomaly maps, about ${formatBytes(cacheBytes)} of frozen-feature cache`,
    ...blockedCells.map((c) => `cannot run: ${c.method} ${c.preset} · ${c.scenarios.join(', ')} · seed ${c.seed}: ${c.blocked}`),
  ];
  return { benchmarkId, backend, cells, totalSeconds, mapBytes, cacheBytes, blocked: blockedCells.length, text };
}
