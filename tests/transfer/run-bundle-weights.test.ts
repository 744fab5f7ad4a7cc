/**
 * A run trained with a backbone weights file names that file by a path on its host: the run bundle
 * carries only `weights:<file name>` (in the config, the weights column and result.json), and the
 * importing workspace maps it to its own copy. A done run row and its result.json are written
 * directly (no training: what is tested is the bundle's rewriting).
 */
import { describe, expect, it } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLab } from '../../src/main/core/lab';
import { finishRun, getRun, insertJobRun } from '../../src/main/core/store/runs-repo';
import { DirBlobStore } from '../../src/main/core/transfer/blob-store';
import { exportRun, importRun } from '../../src/main/core/transfer/run-bundle';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
const WORKER_WEIGHTS = '/models/host-a/wide_resnet50_2.safetensors';

describe('a run bundle of a run with a weights file', () => {
  it('carries the weights file by name only, and the importer maps it to its own copy', async () => {
    const root = await tmp();
    const worker = await createLab(join(root, 'worker'), { create: true });
    const config = { datasetId: 3, scenario: 'nut_and_bolt', preset: 'fast', weightsFile: WORKER_WEIGHTS, featureCache: true };
    const id = insertJobRun(worker.store, { name: 'r', jobKind: 'patchcore', method: 'patchcore', scenarios: ['nut_and_bolt'], datasetId: null, datasetRoot: null, config, weights: WORKER_WEIGHTS, randomInit: false, requestedBackend: null });
    finishRun(worker.store, id, [{ scenario: 'nut_and_bolt', defectType: '', metric: 'image_auroc', value: 0.75, threshold: null }]);
    const runDir = worker.jobs.runDir(id);
    await mkdir(runDir, { recursive: true });
    await writeFile(join(runDir, 'result.json'), JSON.stringify({ metrics: [], summary: { weights: { source: 'file', path: WORKER_WEIGHTS, randomInit: false } } }));
    const blobs = new DirBlobStore(join(root, 'blobs'));
    const { digest, manifest } = await exportRun(worker.store, runDir, blobs, id, { uid: 'cell-w', host: 'host-a' });
    worker.close();

    expect(JSON.stringify(manifest)).not.toContain('/models');
    expect(manifest.run.weights).toBe('weights:wide_resnet50_2.safetensors');
    expect((manifest.run.config as { weightsFile: string }).weightsFile).toBe('weights:wide_resnet50_2.safetensors');
    const resultBlob = manifest.files.find((f) => f.path === 'result.json')!;
    expect(Buffer.from(await blobs.get(resultBlob.sha256)).toString()).not.toContain('/models');

    for (const [name, weightsFile, expected] of [
      ['coordinator', '/lab/weights/wrn50.safetensors', '/lab/weights/wrn50.safetensors'],
      ['other', undefined, 'weights:wide_resnet50_2.safetensors'],
    ] as const) {
      const lab = await createLab(join(root, name), { create: true });
      try {
        const { runId } = await importRun(lab.store, lab.dir, blobs, digest, { datasetId: null, ...(weightsFile ? { weightsFile } : {}) });
        const run = getRun(lab.store, runId);
        expect(run.weights).toBe(expected);
        expect((run.config as { weightsFile: string }).weightsFile).toBe(expected);
        expect(run.metrics.map((m) => m.value)).toEqual([0.75]);
        const result = JSON.parse(await readFile(join(lab.jobs.runDir(runId), 'result.json'), 'utf8')) as { summary: { weights: { path: string } } };
        expect(result.summary.weights.path).toBe(expected);
      } finally {
        lab.close();
      }
    }
  });
});
