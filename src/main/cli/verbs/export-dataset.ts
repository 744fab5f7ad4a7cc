/**
 * `miad-lab export-dataset --workspace W --out DIR [--scenario S]`: the curated dataset as the
 * workspace labels it (annotations over the imported datasets), in the MVTec AD / MIAD layout the
 * importer reads, with `manifest.json` (annotate/export-dataset.ts). Usage is checked before the
 * workspace opens, and an existing non-empty --out is refused, so a mistake writes nothing.
 */
import { resolve } from 'node:path';
import { withHost, withWorkspace } from '../host';
import { UsageError, requiredString, stringOption, type VerbSpec } from '../verb';

export const exportDatasetVerb: VerbSpec = {
  name: 'export-dataset',
  summary: 'write the curated dataset (labels, defect types and masks as annotated) in MIAD/MVTec layout',
  details: [
    'Rejected samples, train samples flagged out of training and train samples labelled anomalous are left',
    'out; manifest.json lists every file with its source sample, and every sample left out with the reason.',
    'Example:',
    '  miad-lab export-dataset --workspace ~/lab --out /data/curated --scenario metal_welding',
  ].join('\n'),
  options: {
    workspace: { type: 'string', value: 'DIR', description: 'the workspace to export from', required: true },
    out: { type: 'string', value: 'DIR', description: 'a new or empty folder to write into', required: true },
    scenario: { type: 'string', value: 'S', description: 'export one scenario only' },
  },
  async run({ options }, io) {
    const ws = resolve(requiredString(options, 'workspace'));
    const out = resolve(requiredString(options, 'out'));
    const scenario = stringOption(options, 'scenario');
    const { state } = await withHost((host) => host.call('workspaces:inspect', { dir: ws }));
    if (state !== 'workspace') throw new UsageError(`--workspace ${ws} holds no MIAD Lab workspace (no lab.sqlite)`);
    // The app's export call: its refusals (a non-empty --out, an unknown scenario) are ValidationErrors, exit 2.
    const summary = await withWorkspace(ws, (host) => host.call('annotate:exportDataset', { outDir: out, ...(scenario !== undefined ? { scenario } : {}) }));
    if (!io.json) {
      io.out(`Exported ${summary.samples} images (${summary.masks} masks) to ${out}; left out ${summary.excluded}`);
      for (const [s, counts] of Object.entries(summary.counts)) {
        io.out(`  ${s.padEnd(22)} ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      }
    }
    return { out, files: summary.samples, masks: summary.masks, skipped: summary.excluded, counts: summary.counts };
  },
};
