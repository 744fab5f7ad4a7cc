/** Tiny benchmark matrices of real runs on MIAD-mini (64 px, a few images), and waiting for a benchmark to end. */
import type { BenchmarkDetail } from '../../src/shared/calls/bench';
import type { jobHost } from '../jobs/helpers';

/** PatchCore fast and the auto-encoder fast, shrunk to seconds per run on wasm; the auto-encoder checkpoints every 2 steps. */
export const TINY_OVERRIDES = {
  patchcore: { inputSize: 64, trainImages: 'all', batchSize: 8 },
  autoencoder: { inputSize: 64, baseWidth: 4, latentChannels: 4, trainImages: 8, batchSize: 4, epochs: 6, checkpointSteps: 2 },
};

export const MINI = { scenarios: ['nut_and_bolt', 'wind_turbine'] as const, train: 8, test: 8, size: 64, seed: 5 };

type JobHost = Awaited<ReturnType<typeof jobHost>>;

/** The benchmark once it is done or cancelled (events seen from `from` on); waits through several 30 s windows. */
export async function benchEnded(t: JobHost, benchmarkId: number, from = 0, tries = 10): Promise<BenchmarkDetail> {
  const now = (await t.host.invoke('bench:get', { benchmarkId })) as BenchmarkDetail;
  if (now.state === 'done' || now.state === 'cancelled') return now;
  for (let i = 1; ; i++) {
    try {
      const e = await t.waitFor(
        (r) => t.events.indexOf(r) >= from && r.event === 'bench:changed' && (r.payload as { benchmark: BenchmarkDetail }).benchmark.id === benchmarkId && ['done', 'cancelled'].includes((r.payload as { benchmark: BenchmarkDetail }).benchmark.state),
        `benchmark ${benchmarkId} to end`,
      );
      return (e.payload as { benchmark: BenchmarkDetail }).benchmark;
    } catch (error) {
      if (i >= tries) throw error;
    }
  }
}
