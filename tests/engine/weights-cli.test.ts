// `miad-lab weights ...` through the real CLI parser: usage errors exit 2, failures exit 1, and
// random → import → verify → list work on a real workspace folder.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli as runCliCaptured } from '../helpers/cli';

let ws = '';
beforeAll(async () => {
  ws = await mkdtemp(join(tmpdir(), 'wcli-'));
});
afterAll(async () => {
  await rm(ws, { recursive: true, force: true });
});

const cli = (...argv: string[]) => runCliCaptured(argv);

describe('miad-lab weights', () => {
  it('is registered and documents its sub-commands', async () => {
    const r = await cli('weights', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/list \| fetch \| import \| verify \| random/);
    expect(r.out).toMatch(/miad-lab weights import --workspace W --id ID FILE/);
  });

  it('refuses bad usage with exit 2', async () => {
    expect((await cli('weights', 'list')).code).toBe(2); // no --workspace
    expect((await cli('weights', 'nope', '--workspace', ws)).err).toMatch(/unknown sub-command "nope"/);
    expect((await cli('weights', 'fetch', '--workspace', ws)).err).toMatch(/--id is required/);
    const badId = await cli('weights', 'verify', '--workspace', ws, '--id', 'resnet19');
    expect(badId.code).toBe(2);
    expect(badId.err).toMatch(/not in the catalogue; known: wide_resnet50_2\.tv_in1k/);
    expect((await cli('weights', 'import', '--workspace', ws, '--id', 'resnet18.tv_in1k')).err).toMatch(/needs the FILE/);
    expect((await cli('weights', 'list', '--workspace', ws, 'extra')).err).toMatch(/only import takes a FILE/);
    expect((await cli('weights', 'random', '--workspace', ws, '--arch', 'vgg16')).err).toMatch(/choose one of resnet18, wide_resnet50_2/);
    expect((await cli('weights', 'random', '--workspace', ws, '--arch', 'resnet18', '--seed', '-1')).code).toBe(2);
    expect((await cli('weights', 'list', '--workspace', join(ws, 'missing'))).err).toMatch(/is not a folder/);
    expect((await cli('weights', 'list', '--workspace', ws, '--seed', '3')).err).toMatch(/--seed does not apply to weights list/);
  });

  it('random → import → verify → list', async () => {
    const r = await cli('weights', 'random', '--workspace', ws, '--arch', 'resnet18', '--seed', '5', '--json');
    expect(r.code).toBe(0);
    const file = (JSON.parse(r.out) as { result: { path: string } }).result.path;
    expect(file).toBe(join(ws, 'weights', 'resnet18.random-5.safetensors'));
    const imp = await cli('weights', 'import', '--workspace', ws, '--id', 'resnet18.tv_in1k', file);
    expect(imp.code).toBe(0);
    expect(imp.out).toMatch(/every tensor checked/);
    const v = await cli('weights', 'verify', '--workspace', ws, '--id', 'resnet18.tv_in1k');
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/resnet18\.tv_in1k: ok/);
    const list = await cli('weights', 'list', '--workspace', ws, '--json');
    const rows = (JSON.parse(list.out) as { result: { id: string; present: boolean }[] }).result;
    expect(rows.find((x) => x.id === 'resnet18.tv_in1k')?.present).toBe(true);
    expect(rows.find((x) => x.id === 'wide_resnet50_2.tv_in1k')?.present).toBe(false);
  });

  it('refuses a file that is not the architecture (ValidationError, exit 2); verifying what is not cached fails (exit 1)', async () => {
    const junk = join(ws, 'junk.safetensors');
    await writeFile(junk, 'not a safetensors file at all');
    const r = await cli('weights', 'import', '--workspace', ws, '--id', 'wide_resnet50_2.tv_in1k', junk);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot be imported as wide_resnet50_2\.tv_in1k: .*not a valid safetensors file|truncated/);
    const v = await cli('weights', 'verify', '--workspace', ws, '--id', 'wide_resnet50_2.tv_in1k');
    expect(v.code).toBe(1);
    expect(v.err).toMatch(/is not in the cache/);
  });
});
