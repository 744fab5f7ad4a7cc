/** A tiny demo generator for host tests: writes real (1×1 gray PNG) files and returns their samples. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DemoGenerator } from '../../src/main/core/datasets/demo-dataset';

// A valid 1×1 8-bit grayscale PNG.
const PNG_1x1 = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010800000000376ef9240000000a49444154789c636000000002000148afa4710000000049454e44ae426082', 'hex');

export function fakeDemo(opts: { failAfter?: number } = {}): DemoGenerator {
  return async (outDir, _options, onProgress) => {
    const files = [
      { scenario: 'wind_turbine', split: 'train' as const, label: 'good', relPath: 'wind_turbine/train/good/000.png', maskRelPath: null },
      { scenario: 'wind_turbine', split: 'test' as const, label: 'good', relPath: 'wind_turbine/test/good/000.png', maskRelPath: null },
      { scenario: 'wind_turbine', split: 'test' as const, label: 'crack', relPath: 'wind_turbine/test/crack/000.png', maskRelPath: 'wind_turbine/ground_truth/crack/000_mask.png' },
    ];
    let done = 0;
    for (const f of files) {
      if (opts.failAfter !== undefined && done >= opts.failAfter) throw new Error('generator failed on purpose');
      for (const rel of [f.relPath, f.maskRelPath]) {
        if (!rel) continue;
        await mkdir(dirname(join(outDir, rel)), { recursive: true });
        await writeFile(join(outDir, rel), PNG_1x1);
      }
      done++;
      onProgress({ phase: 'generating', scenario: f.scenario, done, total: files.length });
    }
    return { samples: files.map((f) => ({ ...f, width: 1, height: 1 })) };
  };
}
