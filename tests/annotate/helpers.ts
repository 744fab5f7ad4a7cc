/**
 * A host over a small real workspace for annotation tests: a demo generator that writes real
 * gray PNGs of 8×6 pixels in two MIAD scenarios and one scenario outside MIAD.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DemoGenerator } from '../../src/main/core/datasets/demo-dataset';
import { encodePng } from '../../src/main/core/image/png';
import { createLabHost } from '../../src/main/core/lab-host';
import type { LabHost } from '../../src/main/core/host';

export const W = 8;
export const H = 6;

export const FILES = [
  { scenario: 'wind_turbine', split: 'train' as const, label: 'good', relPath: 'wind_turbine/train/good/000.png', maskRelPath: null },
  { scenario: 'wind_turbine', split: 'test' as const, label: 'crack', relPath: 'wind_turbine/test/crack/000.png', maskRelPath: 'wind_turbine/ground_truth/crack/000_mask.png' },
  { scenario: 'metal_welding', split: 'test' as const, label: 'weld_pit', relPath: 'metal_welding/test/weld_pit/000.png', maskRelPath: null },
  { scenario: 'metal_welding', split: 'test' as const, label: 'good', relPath: 'metal_welding/test/good/000.png', maskRelPath: null },
  { scenario: 'bottle', split: 'test' as const, label: 'broken_large', relPath: 'bottle/test/broken_large/000.png', maskRelPath: null },
];

export function smallDemo(): DemoGenerator {
  return async (outDir, _options, onProgress) => {
    const png = encodePng(new Uint8Array(W * H).fill(90), W, H, 1);
    let done = 0;
    for (const f of FILES) {
      for (const rel of [f.relPath, f.maskRelPath]) {
        if (!rel) continue;
        await mkdir(dirname(join(outDir, rel)), { recursive: true });
        await writeFile(join(outDir, rel), png);
      }
      onProgress({ phase: 'generating', scenario: f.scenario, done: ++done, total: FILES.length });
    }
    return { samples: FILES.map((f) => ({ ...f, width: W, height: H })) };
  };
}

/** A host with the small demo open; `ids` maps relPath → sample id. */
export async function openSmallWorkspace(root: string, workspaceDir?: string) {
  const host = createLabHost({
    door: 'server',
    configDir: join(root, 'config'),
    defaultWorkspacesDir: join(root, 'workspaces'),
    ...(workspaceDir ? {} : { generateDemo: smallDemo() }),
  });
  let dir = workspaceDir;
  if (dir) await host.openWorkspace(dir);
  else dir = ((await host.invoke('workspaces:createDemo', {})) as { dir: string }).dir;
  const page = (await host.invoke('library:query', {})) as { rows: { id: number; relPath: string }[] };
  const ids = new Map(page.rows.map((r) => [r.relPath, r.id]));
  const id = (rel: string) => ids.get(rel)!;
  return { host, dir, id };
}

/** A W×H mask PNG with the given pixels set, as base64. */
export function maskPng(set: readonly number[], value = 255): string {
  const px = new Uint8Array(W * H);
  for (const i of set) px[i] = value;
  return encodePng(px, W, H, 1).toString('base64');
}

/**
 * The curation both export tests start from: a normal weld image relabelled weld_beading with a
 * 3-pixel mask, a weld_pit image relabelled good, a crack image rejected, a train image flagged out.
 * Returns the relabelled weld image's id.
 */
export async function applyCurationEdits(host: LabHost, id: (rel: string) => number): Promise<number> {
  const weldGood = id('metal_welding/test/good/000.png');
  await host.invoke('annotate:set', { sampleId: weldGood, defectType: 'weld_beading' });
  await host.invoke('annotate:saveMask', { sampleId: weldGood, png: maskPng([3, 4, 11]) });
  await host.invoke('annotate:set', { sampleId: id('metal_welding/test/weld_pit/000.png'), label: 'good' });
  await host.invoke('annotate:set', { sampleId: id('wind_turbine/test/crack/000.png'), reviewState: 'rejected' });
  await host.invoke('annotate:flagTraining', { selection: { mode: 'ids', ids: [id('wind_turbine/train/good/000.png')] }, excluded: true });
  return weldGood;
}
