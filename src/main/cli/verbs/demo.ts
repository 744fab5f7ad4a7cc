/**
 * `miad-lab demo`: generates the MIAD-mini dataset into a folder (`datasets:generateMini`; the app
 * runs it in a job process, the CLI's host in its own). Every value is checked before
 * anything is written (exit 2 with a message naming the flag); an --out that is a file, or a
 * non-empty folder that is not an earlier MIAD-mini output, is refused so nothing is sprayed into
 * the wrong place.
 */
import { resolve } from 'node:path';
import { DEMO_LIMITS } from '../../../shared/limits';
import type { MiniDatasetSummary } from '../../../shared/calls/datasets';
import { SCENARIOS, isScenario, type Scenario } from '../../../shared/taxonomy';
import { withHost } from '../host';
import { UsageError, intOption, requiredString, stringOption, type ParsedOptions, type VerbSpec } from '../verb';

function knobOption(options: ParsedOptions, name: string): number {
  const raw = stringOption(options, name);
  if (raw === undefined) return 0.5;
  const value = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new UsageError(`--${name} expects a number between 0 and 1, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function scenariosOption(options: ParsedOptions): Scenario[] | undefined {
  const raw = stringOption(options, 'scenarios');
  if (raw === undefined) return undefined;
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new UsageError(`--scenarios expects a comma-separated list; valid: ${SCENARIOS.join(', ')}`);
  const unknown = names.filter((n) => !isScenario(n));
  if (unknown.length > 0) {
    throw new UsageError(`unknown scenario${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')}; valid: ${SCENARIOS.join(', ')}`);
  }
  return names as Scenario[];
}

/** What --json prints: the report without the per-file lists, with the time it took. */
export function demoSummary(report: MiniDatasetSummary, seconds: number) {
  return {
    outDir: report.outDir,
    version: report.version,
    options: report.options,
    totals: report.totals,
    seconds: Number(seconds.toFixed(3)),
    imagesPerSecond: Number((report.totals.images / Math.max(seconds, 1e-9)).toFixed(1)),
    scenarios: report.scenarios,
  };
}

export const demoVerb: VerbSpec = {
  name: 'demo',
  summary: 'generate the MIAD-mini demo dataset (7 scenarios, 14 defect types, pixel masks)',
  details: [
    'Writes <scenario>/train/good, <scenario>/test/good, <scenario>/test/<defect> and',
    '<scenario>/ground_truth/<defect>/*_mask.png. The same --seed always gives byte-identical files.',
    'Example: miad-lab demo --out /tmp/miad-mini --train 50 --test 20 --size 128',
  ].join('\n'),
  options: {
    out: { type: 'string', value: 'DIR', description: 'output folder (new, empty, or an earlier MIAD-mini output)', required: true },
    seed: { type: 'string', value: 'N', description: 'random seed (default 0)' },
    train: { type: 'string', value: 'N', description: `training images per scenario, 1..${DEMO_LIMITS.maxTrain} (default 200)` },
    test: { type: 'string', value: 'N', description: `test images per scenario, 1..${DEMO_LIMITS.maxTest}, half anomalous (default 60)` },
    size: { type: 'string', value: 'PX', description: `image side in pixels, ${DEMO_LIMITS.minSize}..${DEMO_LIMITS.maxSize} (default 256)` },
    scenarios: { type: 'string', value: 'a,b', description: 'comma-separated scenarios (default all 7)' },
    viewpoint: { type: 'string', value: 'F', description: 'viewpoint jitter, 0..1 (default 0.5)' },
    background: { type: 'string', value: 'F', description: 'background clutter, 0..1 (default 0.5)' },
    surface: { type: 'string', value: 'F', description: 'surface wear, 0..1 (default 0.5)' },
  },
  async run({ options }, io) {
    const outDir = resolve(requiredString(options, 'out'));
    const seed = intOption(options, 'seed', 0, 0, 2 ** 31 - 1);
    const train = intOption(options, 'train', 200, 1, DEMO_LIMITS.maxTrain);
    const test = intOption(options, 'test', 60, 1, DEMO_LIMITS.maxTest);
    const size = intOption(options, 'size', 256, DEMO_LIMITS.minSize, DEMO_LIMITS.maxSize);
    const scenarios = scenariosOption(options);
    const viewpoint = knobOption(options, 'viewpoint');
    const background = knobOption(options, 'background');
    const surface = knobOption(options, 'surface');
    const start = performance.now();
    const report = await withHost(async (host) => {
      if (!io.json) {
        // Progress on stderr as the job moves from scenario to scenario (throttled: a short scenario may pass unnamed).
        let current: string | null = null;
        host.on('datasets:miniProgress', (p) => {
          if (p.phase !== 'generating' || p.scenario === null || p.scenario === current) return;
          current = p.scenario;
          io.err(`  ${p.scenario}… (${p.done} / ${p.total} images)`);
        });
      }
      // The generator refuses an --out it must not write into (a file, a foreign folder): bad usage.
      return host.call('datasets:generateMini', { outDir, options: { seed, train, test, size, ...(scenarios ? { scenarios } : {}), viewpoint, background, surface } }).catch((error: unknown) => {
        if (error instanceof Error && error.name === 'ConflictError') throw new UsageError(`--out: ${error.message}`);
        throw error;
      });
    });
    const seconds = (performance.now() - start) / 1000;
    const summary = demoSummary(report, seconds);
    if (!io.json) {
      for (const sc of report.scenarios) io.out(`  ${sc.scenario.padEnd(22)} ${String(sc.train + sc.testGood + sc.testAnomalous).padStart(6)} images`);
      io.out(
        `MIAD-mini written to ${outDir}: ${report.totals.images} images and ${report.totals.masks} masks ` +
          `(${(report.totals.bytes / 1e6).toFixed(1)} MB) in ${seconds.toFixed(1)} s, ${summary.imagesPerSecond} images/s`,
      );
    }
    return summary;
  },
};
