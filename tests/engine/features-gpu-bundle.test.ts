/**
 * The GPU feature benchmark must run as one bundled file with no project install beside it (the
 * way ../shared/device/pack-webgpu.sh ships it to a GPU machine). Bundled here with esbuild as that
 * script does, then run from an empty folder on the cpu backend, whose kernels the bundle carries.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('bench/features-gpu.ts as a bundle', () => {
  it('bundles into one file that measures a backbone with nothing installed beside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'features-gpu-bundle-'));
    dirs.push(dir);
    const outfile = join(dir, 'main.mjs');
    await build({
      entryPoints: [resolve('bench/features-gpu.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      external: ['webgpu'],
      banner: { js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" },
      logLevel: 'silent',
    });
    const { stdout } = await run(process.execPath, [outfile, '--backend', 'cpu', '--size', '32', '--batch', '1', '--iters', '1', '--archs', 'resnet18', '--no-torch'], {
      cwd: dir,
      env: { ...process.env, OUT: join(dir, 'out') },
      timeout: 120_000,
    });
    expect(stdout).toMatch(/backend cpu · resnet18 · 32² · batch 1/);
    expect(stdout).toMatch(/resnet18\s+tfjs cpu:\s+[\d.]+ img\/s/);
    const json = JSON.parse(await readFile(join(dir, 'out', 'features-gpu.json'), 'utf8')) as { backend: string; rows: { arch: string; ours: number }[] };
    expect(json.backend).toBe('cpu');
    expect(json.rows[0]!.arch).toBe('resnet18');
    expect(json.rows[0]!.ours).toBeGreaterThan(0);
  }, 180_000);
});
