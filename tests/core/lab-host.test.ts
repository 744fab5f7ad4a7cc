import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { createLabHost } from '../../src/main/core/lab-host';
import { CALL_NAMES } from '../../src/shared/contract';
import type { DemoProgress, WorkspaceInfo } from '../../src/shared/types';
import { fakeDemo } from '../helpers/fake-demo';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();

async function makeHost(opts: { failAfter?: number } = {}) {
  const root = await tmp();
  const host = createLabHost({
    door: 'server',
    configDir: join(root, 'config'),
    defaultWorkspacesDir: join(root, 'workspaces'),
    generateDemo: fakeDemo(opts),
  });
  return { root, host };
}

describe('lab host', () => {
  it('implements every call of the contract and refuses unknown ones', async () => {
    const { host } = await makeHost();
    await expect(host.invoke('nope:call', {})).rejects.toMatchObject({ name: 'NotFoundError' });
    // Every call either answers or fails with a named error; none is missing.
    for (const name of CALL_NAMES) {
      const outcome = await host.invoke(name, {}).then(
        () => 'ok',
        (e: Error) => e.name,
      );
      expect(['ok', 'ValidationError', 'ConflictError'], `${name} -> ${outcome}`).toContain(outcome);
    }
  });

  it('validates input before anything runs, naming the field', async () => {
    const { host, root } = await makeHost();
    await expect(host.invoke('workspaces:open', { dir: 42 })).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/workspaces:open: dir/) });
    await expect(host.invoke('workspaces:open', { dir: join(root, 'x'), extra: true })).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/extra/) });
    await expect(host.invoke('workspaces:createDemo', { options: { size: 5 } })).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/options.size/) });
    await expect(host.invoke('workspaces:createDemo', { options: { scenarios: ['mars_rover'] } })).rejects.toMatchObject({ name: 'ValidationError' });
    expect(existsSync(join(root, 'x'))).toBe(false);
    expect(existsSync(join(root, 'workspaces'))).toBe(false);
  });

  it('creates a demo workspace with progress events, registers its samples and remembers it', async () => {
    const { host, root } = await makeHost();
    const progress: DemoProgress[] = [];
    const changes: (WorkspaceInfo | null)[] = [];
    host.onEvent((event, payload) => {
      if (event === 'workspaces:demoProgress') progress.push(payload as DemoProgress);
      if (event === 'workspaces:changed') changes.push((payload as { workspace: WorkspaceInfo | null }).workspace);
    });
    const info = (await host.invoke('workspaces:createDemo', {})) as WorkspaceInfo;
    expect(info.dir).toBe(join(root, 'workspaces', 'demo'));
    expect(info.sampleCount).toBe(3);
    expect(progress.map((p) => p.phase)).toEqual(['generating', 'generating', 'generating', 'registering', 'done']);
    expect(changes.map((w) => w?.dir)).toEqual([info.dir]);
    const [dataset] = (await host.invoke('datasets:list', {})) as { id: number; root: string }[];
    expect(dataset!.root).toBe(join(info.dir, 'datasets', 'miad-mini'));
    const recent = (await host.invoke('workspaces:recent', {})) as { dir: string; exists: boolean }[];
    expect(recent).toEqual([expect.objectContaining({ dir: info.dir, exists: true })]);
    // The next demo goes to a new folder.
    const appInfo = (await host.invoke('app:info', {})) as { defaultDemoDir: string; workspace: WorkspaceInfo };
    expect(appInfo.defaultDemoDir).toBe(join(root, 'workspaces', 'demo-2'));
    expect(appInfo.workspace.dir).toBe(info.dir);
    await host.close();
  });

  it('a failed demo changes nothing', async () => {
    const { host, root } = await makeHost({ failAfter: 1 });
    await expect(host.invoke('workspaces:createDemo', { dir: join(root, 'fails') })).rejects.toThrow(/on purpose/);
    expect(existsSync(join(root, 'fails'))).toBe(false);
    const empty = join(root, 'empty');
    await mkdir(empty);
    await expect(host.invoke('workspaces:createDemo', { dir: empty })).rejects.toThrow(/on purpose/);
    expect(await readdir(empty)).toEqual([]);
    expect(((await host.invoke('app:info', {})) as { workspace: unknown }).workspace).toBeNull();
  });

  it('refuses a demo into a non-empty folder and a second demo while one runs', async () => {
    const { host, root } = await makeHost();
    await writeFile(join(root, 'note.txt'), 'x');
    await expect(host.invoke('workspaces:createDemo', { dir: root })).rejects.toMatchObject({ name: 'ConflictError', message: expect.stringMatching(/not empty/) });
    const a = host.invoke('workspaces:createDemo', { dir: join(root, 'a') });
    await expect(host.invoke('workspaces:createDemo', { dir: join(root, 'b') })).rejects.toMatchObject({ name: 'ConflictError' });
    await a;
  });

  it('confines file reads to the workspace and dataset roots, symlinks included', async () => {
    const { host, root } = await makeHost();
    const outside = join(root, 'secret.txt');
    await writeFile(outside, 'secret');
    await expect(host.resolveAllowedFile(outside)).rejects.toMatchObject({ name: 'ForbiddenError' });
    const info = (await host.invoke('workspaces:createDemo', { dir: join(root, 'ws') })) as WorkspaceInfo;
    const image = join(info.dir, 'datasets/miad-mini/wind_turbine/test/crack/000.png');
    expect(await host.resolveAllowedFile(image)).toBe(image);
    await expect(host.resolveAllowedFile(outside)).rejects.toMatchObject({ name: 'ForbiddenError' });
    await expect(host.resolveAllowedFile(join(info.dir, '../secret.txt'))).rejects.toMatchObject({ name: 'ForbiddenError' });
    // Only files the store knows are served (issue 20): an unknown picture is refused, a known place with no file is missing.
    await expect(host.resolveAllowedFile(join(info.dir, 'missing.png'))).rejects.toMatchObject({ name: 'ForbiddenError' });
    await expect(host.resolveAllowedFile(join(info.dir, 'thumbs', 'zz', 'missing.webp'))).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(host.resolveAllowedFile('relative.png')).rejects.toMatchObject({ name: 'ForbiddenError' });
    await symlink(outside, join(info.dir, 'link.txt'));
    await expect(host.resolveAllowedFile(join(info.dir, 'link.txt'))).rejects.toMatchObject({ name: 'ForbiddenError' });
  });

  it('close, reopen through workspaces:open, and calls that need a workspace say so', async () => {
    const { host, root } = await makeHost();
    const info = (await host.invoke('workspaces:createDemo', { dir: join(root, 'ws') })) as WorkspaceInfo;
    expect(await host.invoke('workspaces:close', {})).toEqual({ closed: true, cancelled: [] });
    await expect(host.invoke('datasets:list', {})).rejects.toMatchObject({ name: 'ConflictError', message: expect.stringMatching(/no workspace is open/) });
    const again = (await host.invoke('workspaces:open', { dir: info.dir })) as WorkspaceInfo;
    expect(again.sampleCount).toBe(3);
    const page = (await host.invoke('samples:list', { datasetId: 1, label: 'crack' })) as { total: number; samples: { maskPath: string }[] };
    expect(page.total).toBe(1);
    expect(existsSync(page.samples[0]!.maskPath)).toBe(true);
    await expect(host.invoke('datasets:summary', { datasetId: 99 })).rejects.toMatchObject({ name: 'NotFoundError' });
  });
});
