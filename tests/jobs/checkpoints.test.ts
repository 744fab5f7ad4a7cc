/** Checkpoint files, the protocol's validation and the reasons given for dead job processes: the pure parts. */
import { describe, expect, it } from 'vitest';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkpointsDir, hasCheckpoint, readCheckpoint, writeCheckpoint } from '../../src/main/core/jobs/checkpoints';
import { parseFromWorker } from '../../src/main/core/jobs/protocol';
import { exitReason } from '../../src/main/core/jobs/runner';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();

describe('checkpoints', () => {
  it('writes state and blobs, reads back the newest, keeps only it', async () => {
    const run = await tmp();
    expect(await readCheckpoint(run)).toBeNull();
    expect(await hasCheckpoint(run)).toBe(false);
    await writeCheckpoint(run, { step: 1, state: { a: 1 }, blobs: { 'w.bin': new Uint8Array([1, 2, 3]) } });
    await writeCheckpoint(run, { step: 2, state: { a: 2 }, blobs: { 'w.bin': new Uint8Array([4, 5]) } });
    const back = await readCheckpoint(run);
    expect(back).toEqual({ step: 2, state: { a: 2 }, blobs: { 'w.bin': new Uint8Array([4, 5]) } });
    expect(await hasCheckpoint(run)).toBe(true);
    expect((await readdir(checkpointsDir(run))).sort()).toEqual(['latest.json', 'step-000000002']);
  });

  it('a write killed half-way (a temp folder, no pointer update) leaves the previous checkpoint in force', async () => {
    const run = await tmp();
    await writeCheckpoint(run, { step: 3, state: 'three' });
    const half = join(checkpointsDir(run), '.step-000000004.abcd.tmp');
    await mkdir(half);
    await writeFile(join(half, 'state.json'), '{"step": 4, "sta');
    expect(await readCheckpoint(run)).toMatchObject({ step: 3, state: 'three' });
    // A pointer to a folder that is not there means no usable checkpoint: the runner refuses to
    // resume, and reading it says so loudly instead of handing back nothing (a silent restart).
    await writeFile(join(checkpointsDir(run), 'latest.json'), '{"name": "step-000000009", "step": 9}');
    await expect(readCheckpoint(run)).rejects.toThrow(/checkpoint .* is damaged: step-000000009\/state.json is missing/);
    expect(await hasCheckpoint(run)).toBe(false);
  });

  it('refuses a truncated or altered blob, naming it', async () => {
    const run = await tmp();
    await writeCheckpoint(run, { step: 5, state: { a: 5 }, blobs: { 'model.safetensors': new Uint8Array(1000).fill(7) } });
    const blob = join(checkpointsDir(run), 'step-000000005', 'model.safetensors');
    await writeFile(blob, new Uint8Array(600).fill(7));
    await expect(readCheckpoint(run)).rejects.toThrow(/model.safetensors has 600 bytes, 1000 were written \(truncated\?\)/);
    await writeFile(blob, new Uint8Array(1000).fill(8));
    await expect(readCheckpoint(run)).rejects.toThrow(/model.safetensors does not have the sha256 it was written with/);
    await writeFile(join(checkpointsDir(run), 'latest.json'), 'not json');
    await expect(readCheckpoint(run)).rejects.toThrow(/latest.json is not JSON/);
  });

  it('refuses blob names that could escape the folder', async () => {
    const run = await tmp();
    await expect(writeCheckpoint(run, { step: 1, state: null, blobs: { '../x': new Uint8Array(1) } })).rejects.toThrow(/bad checkpoint blob name/);
  });
});

describe('protocol and exit reasons', () => {
  it('accepts well-formed worker messages and explains malformed ones', () => {
    expect(parseFromWorker({ type: 'progress', progress: { phase: 'train', step: 1, total: 2, loss: 0.5 } })).toMatchObject({ ok: true });
    expect(parseFromWorker({ type: 'series', points: [{ name: 'loss', step: 0, value: Number.NaN }] })).toMatchObject({ ok: false });
    expect(parseFromWorker('hello')).toMatchObject({ ok: false });
    expect(parseFromWorker({ type: 'done', result: {}, extra: 1 })).toMatchObject({ ok: false });
    const bad = parseFromWorker({ type: 'progress', progress: { phase: 1, step: 0, total: 1 } });
    expect(bad.ok ? '' : bad.reason).toMatch(/^progress\.phase: /);
  });

  it('names memory, signals and exit codes', () => {
    expect(exitReason({ code: null, signal: 'SIGABRT' }, 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory')).toBe(
      'the job process ran out of memory (signal SIGABRT, exit code 134 / V8 heap limit)',
    );
    expect(exitReason({ code: 134, signal: null }, 'FATAL ERROR: something')).toMatch(/ran out of memory \(exit code 134/);
    expect(exitReason({ code: null, signal: 'SIGKILL' }, '')).toMatch(/killed \(SIGKILL\).*out-of-memory killer/);
    expect(exitReason({ code: 3, signal: null }, 'line one\nlast words\n')).toBe('the job process exited with exit code 3 before it finished; its last output: last words');
    expect(exitReason({ code: 0, signal: null }, '')).toBe('the job process exited (exit code 0) without reporting a result');
    expect(exitReason({ code: null, signal: null, error: 'spawn ENOENT' }, '')).toBe('the job process could not start: spawn ENOENT');
  });
});
