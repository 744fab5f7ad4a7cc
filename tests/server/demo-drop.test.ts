/**
 * Issue 20 item 5, the server door: a client that drops its `workspaces:createDemo` request (a
 * closed tab, a lost connection) cancels the creation; what it had made is removed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLabHost } from '../../src/main/core/lab-host';
import type { DemoGenerator } from '../../src/main/core/datasets/demo-dataset';
import { startLabServer, type LabServer } from '../../src/main/server/server';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

describe('a dropped demo request', () => {
  it('cancels the creation and removes its half-made folder', async () => {
    const root = await tmp();
    let stopped!: () => void;
    const generatorStopped = new Promise<void>((resolve) => (stopped = resolve));
    // A generator that writes a file, reports progress, then runs until it is cancelled.
    const generateDemo: DemoGenerator = async (outDir, _options, onProgress, signal) => {
      await mkdir(outDir, { recursive: true });
      await writeFile(join(outDir, 'partial.png'), 'half');
      onProgress({ phase: 'generating', scenario: 'wind_turbine', done: 1, total: 10 });
      return new Promise((_resolve, reject) =>
        signal!.addEventListener('abort', () => {
          stopped();
          reject(new Error('stopped'));
        }),
      );
    };
    const host = createLabHost({ door: 'server', configDir: join(root, 'config'), defaultWorkspacesDir: join(root, 'workspaces'), generateDemo });
    const server: LabServer = await startLabServer({ host, staticDir: await tmp(), port: 0, token: 'drop-token' });
    closers.push(() => server.close(), () => host.close());

    const client = new AbortController();
    host.onEvent((event) => {
      if (event === 'workspaces:demoProgress') client.abort();
    });
    const dir = join(root, 'ws');
    const request = fetch(`http://127.0.0.1:${server.port}/api/call/workspaces:createDemo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer drop-token' },
      body: JSON.stringify({ dir }),
      signal: client.signal,
    });
    await expect(request).rejects.toMatchObject({ name: 'AbortError' });
    await generatorStopped;
    // Answers once the cancelled creation has cleaned up (or at once when it already has).
    await host.invoke('workspaces:cancelDemo', {});
    expect(existsSync(dir)).toBe(false);
    expect(await readdir(root)).toEqual([]);
    expect(host.currentLab()).toBeNull();
  });
});
