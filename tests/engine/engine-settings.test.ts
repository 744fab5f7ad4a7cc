// Through the host: the stored "force backend" setting (refused with the reason when this machine
// cannot run the backend, kept across hosts, used by runs:start unless the call names a backend)
// and the workspace's frozen-feature cache stats and clear. Jobs run in real worker processes.
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { jobHost } from '../jobs/helpers';
import { createLabHost } from '../../src/main/core/lab-host';
import { FeatureCache } from '../../src/main/core/engine/feature-cache';
import type { RunDetail } from '../../src/shared/types';
import type { FeatureCacheInfo } from '../../src/shared/calls/engine';
import { useTmpDirs } from '../helpers/tmp';
import { writerKey, writerLayers } from './fixtures/cache-data';

const tmp = useTmpDirs();

describe('engine settings and cache through the host', () => {
  it('forcing a backend: refused when unavailable, stored, used by runs:start, overridden by the call', async () => {
    const root = await tmp();
    const configDir = join(root, 'config');
    const t = await jobHost(join(root, 'ws'), configDir);
    try {
      expect(await t.host.invoke('engine:backendSetting', {})).toEqual({ backend: 'auto' });
      const { backends } = (await t.host.invoke('engine:backends', {})) as { backends: { name: string; available: boolean; reason: string }[] };
      const unavailable = backends.find((b) => !b.available);
      expect(unavailable, 'this machine lacks at least the GPU build of libtensorflow').toBeDefined();
      await expect(t.host.invoke('engine:setBackend', { backend: unavailable!.name })).rejects.toMatchObject({
        name: 'ConflictError',
        message: expect.stringContaining(unavailable!.reason.slice(0, 30)),
      });
      await expect(t.host.invoke('engine:setBackend', { backend: 'quantum' })).rejects.toMatchObject({ name: 'ValidationError' });
      expect(await t.host.invoke('engine:backendSetting', {})).toEqual({ backend: 'auto' });

      expect(await t.host.invoke('engine:setBackend', { backend: 'cpu' })).toEqual({ backend: 'cpu' });
      const forced = await t.start('gpu-count', { steps: 2, stepMs: 1 });
      const explicit = await t.start('gpu-count', { steps: 2, stepMs: 1 }, { backend: 'wasm' });
      for (const r of [forced, explicit]) expect((await t.waitForStatus(r.id, ['done', 'failed', 'cancelled'])).status).toBe('done');
      expect(((await t.host.invoke('runs:get', { runId: forced.id })) as RunDetail).backend).toBe('cpu');
      expect(((await t.host.invoke('runs:get', { runId: explicit.id })) as RunDetail).backend).toBe('wasm');

      // Another host on the same config folder (the next app start) sees the setting.
      const other = createLabHost({ door: 'cli', configDir, defaultWorkspacesDir: root, version: '0' });
      expect(await other.invoke('engine:backendSetting', {})).toEqual({ backend: 'cpu' });
      await other.close();

      expect(await t.host.invoke('engine:setBackend', { backend: 'auto' })).toEqual({ backend: 'auto' });
      const auto = await t.start('gpu-count', { steps: 2, stepMs: 1 });
      expect((await t.waitForStatus(auto.id, ['done', 'failed', 'cancelled'])).status).toBe('done');
      const best = backends.find((b) => b.available)!.name;
      expect(((await t.host.invoke('runs:get', { runId: auto.id })) as RunDetail).backend).toBe(best);
    } finally {
      await t.host.close();
    }
  }, 180_000);

  it('engine:cache reports the workspace cache; engine:clearCache empties it', async () => {
    const root = await tmp();
    const t = await jobHost(join(root, 'ws'), join(root, 'config'));
    try {
      const empty = (await t.host.invoke('engine:cache', {})) as FeatureCacheInfo;
      expect(empty).toEqual({ dir: FeatureCache.workspaceDir(t.lab().dir), entries: 0, bytes: 0, capBytes: 20e9, hits: 0, misses: 0 });
      // What a job process leaves behind.
      const cache = await FeatureCache.open(FeatureCache.workspaceDir(t.lab().dir));
      for (let i = 0; i < 3; i++) {
        await cache.get(writerKey(i));
        await cache.put(writerKey(i), writerLayers(i));
      }
      await cache.get(writerKey(0));
      await cache.close();
      const full = (await t.host.invoke('engine:cache', {})) as FeatureCacheInfo;
      expect(full).toMatchObject({ entries: 3, hits: 1, misses: 3 });
      expect(full.bytes).toBeGreaterThan(3 * (8 * 8 * 32 + 4 * 4 * 64) * 2);
      expect(await t.host.invoke('engine:clearCache', {})).toEqual({ entries: 3, bytes: full.bytes });
      // engine:setCacheCap: the cap is stored and answered with the cache as it then is.
      expect(await t.host.invoke('engine:setCacheCap', { bytes: 1e9 })).toMatchObject({ entries: 0, capBytes: 1e9 });
      await expect(t.host.invoke('engine:setCacheCap', { bytes: -1 })).rejects.toMatchObject({ name: 'ValidationError' });
      await t.host.invoke('engine:setCacheCap', { bytes: 20e9 });
      expect(await t.host.invoke('engine:cache', {})).toEqual(empty);
      await t.host.invoke('workspaces:close', {});
      await expect(t.host.invoke('engine:cache', {})).rejects.toMatchObject({ name: 'ConflictError' });
    } finally {
      await t.host.close();
    }
  }, 180_000);
});

