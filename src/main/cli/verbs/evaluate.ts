/** `miad-lab evaluate`: every metric for predictions made by any tool, against a dataset in MVTec layout. */
import { resolve } from 'node:path';
import type { EvaluationResult, MetricSet } from '../../../shared/calls/evaluation';
import { withHost } from '../host';
import { UsageError, intOption, requiredString, stringOption, type VerbSpec } from '../verb';

export const evaluateVerb: VerbSpec = {
  name: 'evaluate',
  summary: 'evaluate anomaly maps (.npy) from any tool: AUROC, AUPRO, F1-max, per defect type',
  details: [
    'Predictions: one map per test image, np.save()d as float32 or float16 (H×W), at the image path',
    'relative to the scenario folder with a .npy extension: DIR/test/crack/000.npy for',
    'ROOT/SCENARIO/test/crack/000.png. Optional DIR/scores.json maps "test/crack/000.png" to the image',
    'score; without it an image scores its map maximum. Maps are resized bilinearly to the resolution',
    '(align_corners=False), masks nearest. Format notes: docs/anomaly-maps.md.',
    '',
    'Example: miad-lab evaluate --dataset ~/data/MIAD --scenario metal_welding --predictions out/welding',
  ].join('\n'),
  options: {
    dataset: { type: 'string', value: 'ROOT', description: 'dataset root in MVTec layout (ROOT/SCENARIO/test, ROOT/SCENARIO/ground_truth)', required: true },
    scenario: { type: 'string', value: 'S', description: 'scenario (category) folder name', required: true },
    predictions: { type: 'string', value: 'DIR', description: 'folder of .npy maps (and optional scores.json)', required: true },
    resolution: { type: 'string', value: 'N', description: 'evaluation resolution, N×N pixels (default 256)' },
    'pro-limit': { type: 'string', value: 'F', description: 'FPR limit of AUPRO (default 0.3)' },
    workspace: { type: 'string', value: 'W', description: 'also store the result in this workspace as an external run' },
    name: { type: 'string', value: 'NAME', description: 'name of the stored run (required with --workspace)' },
    method: { type: 'string', value: 'M', description: 'the tool or method that made the maps, as the run records it (default "external")' },
  },
  async run({ options }, io) {
    const resolution = intOption(options, 'resolution', 256, 1, 8192);
    const limitRaw = options['pro-limit'];
    let proLimit = 0.3;
    if (limitRaw !== undefined) {
      proLimit = Number(limitRaw);
      if (typeof limitRaw !== 'string' || !(proLimit > 0 && proLimit <= 1)) {
        throw new UsageError(`--pro-limit expects a number in (0, 1], got ${JSON.stringify(limitRaw)}`);
      }
    }
    const workspace = stringOption(options, 'workspace');
    const name = stringOption(options, 'name');
    const method = stringOption(options, 'method') ?? 'external';
    if (workspace && !name) throw new UsageError('--workspace needs --name: the name the stored run is shown under');
    if (name && !workspace) throw new UsageError('--name only applies with --workspace');
    if (name && name.length > 200) throw new UsageError('--name is longer than 200 characters');
    return withHost(async (host) => {
      // The workspace first: a wrong --workspace fails before minutes of evaluation.
      const ws = workspace ? await host.call('workspaces:open', { dir: resolve(workspace) }) : null;
      const { runId, ...result } = await host.call('evaluation:predictions', {
        datasetRoot: resolve(requiredString(options, 'dataset')),
        scenario: requiredString(options, 'scenario'),
        predictionsDir: resolve(requiredString(options, 'predictions')),
        resolution,
        proLimit,
        ...(ws && name ? { store: { name, method } } : {}),
      });
      if (!io.json) {
        io.out(formatResult(result));
        if (runId !== null) io.out(`Stored as external run #${runId} "${name}" in ${ws!.dir}`);
      }
      return runId === null ? result : { ...result, runId };
    });
  },
};

function fmt(v: number | null, digits = 4): string {
  return v === null ? '—' : v.toFixed(digits);
}

function row(name: string, images: string, m: MetricSet): string {
  return [
    name.padEnd(22),
    images.padStart(10),
    fmt(m.imageAuroc).padStart(10),
    fmt(m.pixelAuroc).padStart(10),
    fmt(m.aupro).padStart(8),
    fmt(m.imageF1Max).padStart(9),
    fmt(m.pixelF1Max).padStart(9),
  ].join(' ');
}

/** The human-readable table: overall, each defect type, and their mean. */
export function formatResult(r: EvaluationResult): string {
  const lines = [
    `${r.scenario}: ${r.testImages} test images at ${r.resolution}×${r.resolution}, image scores from ${r.imageScores}`,
    '',
    [
      'scope'.padEnd(22),
      'good/anom'.padStart(10),
      'img AUROC'.padStart(10),
      'px AUROC'.padStart(10),
      'AUPRO'.padStart(8),
      'img F1'.padStart(9),
      'px F1'.padStart(9),
    ].join(' '),
    row('overall', `${r.overall.images.normal}/${r.overall.images.anomalous}`, r.overall.metrics),
    ...r.perDefect.map((d) => row(`  ${d.defect}`, `${d.images.normal}/${d.images.anomalous}`, d.metrics)),
    row('mean over defect types', '', r.meanOverDefects),
    '',
    `thresholds (score ≥ t is anomalous): image F1 ${fmt(r.overall.metrics.imageF1Threshold, 6)}, pixel F1 ${fmt(r.overall.metrics.pixelF1Threshold, 6)}`,
    `AUPRO up to FPR ${r.proLimit}, divided by ${r.proLimit}; ${r.overall.regions} ground-truth regions (8-connected)`,
  ];
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  lines.push(`evaluated in ${r.seconds.toFixed(2)} s`);
  return lines.join('\n');
}
