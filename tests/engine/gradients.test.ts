// tfjs-core's gradients come from a bundle generated from the installed tfjs-core: it must be up
// to date, and it must make tf.grad work in plain Node (which the stock Node entry does not).
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { GRADIENTS_TFJS_VERSION, hasGradient } from '../../src/main/core/engine/gradients';

const script = fileURLToPath(new URL('../../src/main/core/engine/vendor/build-gradients.mjs', import.meta.url));

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

describe('tfjs-core gradients bundle', () => {
  it('matches the installed tfjs-core (rebuild with node src/main/core/engine/vendor/build-gradients.mjs)', async () => {
    const pkg = createRequire(import.meta.url)('@tensorflow/tfjs-core/package.json') as { version: string };
    expect(GRADIENTS_TFJS_VERSION).toBe(pkg.version);
    const r = await run(process.execPath, [script, '--check']);
    expect(r.out).toMatch(/up to date/);
    expect(r.code).toBe(0);
  });

  it('registers the gradients training needs', () => {
    for (const k of ['Conv2D', 'DepthwiseConv2dNative', 'MaxPool', 'AvgPool', 'FusedBatchNorm', 'Relu', 'BatchMatMul', 'ResizeBilinear', 'Sum', 'Mean', 'GatherV2']) {
      expect(hasGradient(k), k).toBe(true);
    }
  });

  it('makes tf.grad work in plain Node through tsx (no bundler)', async () => {
    const code = [
      "import * as tf from '@tensorflow/tfjs-core';",
      "import '@tensorflow/tfjs-backend-cpu';",
      "import './src/main/core/engine/gradients';",
      "await tf.setBackend('cpu');",
      'const g = tf.grad((x) => tf.sum(tf.square(tf.relu(x))));',
      'console.log(JSON.stringify(g(tf.tensor1d([1, -2, 3])).arraySync()));',
    ].join('\n');
    const r = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code]);
    expect(r.out).toContain('[2,0,6]');
  });
});
