/**
 * `miad-lab export-dataset --workspace W --out DIR [--scenario S]`: the curated dataset as the
 * workspace labels it (annotations over the imported datasets), in the MVTec AD / MIAD layout the
 * importer reads, with `manifest.json` (annotate/export-dataset.ts). Usage is checked before the
 * workspace opens, and an existing non-empty --out is refused, so a mistake writes nothing.
 */
import { resolve } from 'node:path';
import { exportDataset } from '../../core/annotate/export-dataset';
import { createLab } from '../../core/lab';
import { AnnotationRepo } from '../../core/store/annotation-repo';
import { folderState } from '../../core/workspace/workspace';
import { LabError } from '../../../shared/errors';
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
    if ((await folderState(ws)) !== 'workspace') throw new UsageError(`--workspace ${ws} holds no MIAD Lab workspace (no lab.sqlite)`);
    const lab = await createLab(ws);
    try {
      const manifest = await exportDataset({ repo: new AnnotationRepo(lab.store), workspaceDir: lab.dir, outDir: out, scenario }).catch((error: unknown) => {
        if (error instanceof LabError && error.name === 'ValidationError') throw new UsageError(error.message);
        throw error;
      });
      if (!io.json) {
        io.out(`Exported ${manifest.files.length} images (${manifest.files.filter((f) => f.mask).length} masks) to ${out}; left out ${manifest.skipped.length}`);
        for (const [s, counts] of Object.entries(manifest.counts)) {
          io.out(`  ${s.padEnd(22)} ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
        }
      }
      return { out, files: manifest.files.length, masks: manifest.files.filter((f) => f.mask).length, skipped: manifest.skipped.length, counts: manifest.counts };
    } finally {
      lab.close();
    }
  },
};
