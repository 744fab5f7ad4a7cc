// `miad-lab cache stats|clear|cap` on a real workspace whose cache a "job" filled.
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { runCli } from '../../src/main/cli/main';
import { createLab } from '../../src/main/core/lab';
import { FeatureCache } from '../../src/main/core/engine/feature-cache';
import { useTmpDirs } from '../helpers/tmp';
import { writerKey, writerLayers } from './fixtures/cache-data';
import { capture } from '../helpers/cli';

const tmp = useTmpDirs();

describe('miad-lab cache', () => {
  it('stats, cap and clear', async () => {
    const ws = join(await tmp(), 'ws');
    (await createLab(ws, { create: true })).close();
    const cache = await FeatureCache.open(FeatureCache.workspaceDir(ws));
    for (let i = 0; i < 4; i++) {
      await cache.get(writerKey(i));
      await cache.put(writerKey(i), writerLayers(i));
    }
    await cache.get(writerKey(2));
    await cache.close();

    const stats = capture();
    expect(await runCli(['cache', 'stats', '--workspace', ws, '--json'], stats.io)).toBe(0);
    const s = (JSON.parse(stats.out.join('')) as { result: { entries: number; bytes: number; hits: number; misses: number; capBytes: number } }).result;
    expect(s).toMatchObject({ entries: 4, hits: 1, misses: 4, capBytes: 20e9 });

    const human = capture();
    expect(await runCli(['cache', 'stats', '--workspace', ws], human.io)).toBe(0);
    expect(human.out.join('\n')).toMatch(/entries\s+4[\s\S]*hit rate 20\.0 %/);

    // A cap of two entries' worth keeps the most recently used ones within 90 % of it.
    const cap = capture();
    expect(await runCli(['cache', 'cap', '--workspace', ws, '--gb', String(((s.bytes / 4) * 2) / 1e9), '--json'], cap.io)).toBe(0);
    expect((JSON.parse(cap.out.join('')) as { result: { entries: number } }).result.entries).toBe(1);
    const kept = await FeatureCache.open(FeatureCache.workspaceDir(ws));
    expect(await kept.get(writerKey(2))).not.toBeNull();

    const clear = capture();
    expect(await runCli(['cache', 'clear', '--workspace', ws], clear.io)).toBe(0);
    expect(clear.out.join('')).toMatch(/Removed 1 cached feature file/);

    const bad = capture();
    expect(await runCli(['cache', 'stats', '--workspace', join(ws, 'runs')], bad.io)).toBe(2);
    expect(bad.err.join('')).toMatch(/not a MIAD Lab workspace/);
    expect(await runCli(['cache', 'stats', '--workspace', ws, '--gb', '3'], capture().io)).toBe(2);
    expect(await runCli(['cache', 'cap', '--workspace', ws, '--gb', 'lots'], capture().io)).toBe(2);
  });
});
