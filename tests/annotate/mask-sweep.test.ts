/**
 * Opening a workspace sweeps masks/ (issue 20, item 7): a `.tmp` left by a killed save and a mask
 * PNG that no annotation and no history entry names are removed once they are over a minute old;
 * every version the history names stays, a fresh `.tmp` (a save in flight in another process)
 * stays, and nothing outside masks/ is touched.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnnotationHistoryEntry } from '../../src/shared/calls/annotate';
import { useTmpDirs } from '../helpers/tmp';
import { maskPng, openSmallWorkspace } from './helpers';

const tmp = useTmpDirs();

async function age(path: string, seconds: number): Promise<void> {
  const t = new Date(Date.now() - seconds * 1000);
  await utimes(path, t, t);
}

describe('mask sweep on open', () => {
  it('removes stale .tmp files and orphan masks, keeps every history version and fresh files', async () => {
    const { host, dir, id } = await openSmallWorkspace(await tmp());
    const crack = id('wind_turbine/test/crack/000.png');
    const weld = id('metal_welding/test/weld_pit/000.png');
    await host.invoke('annotate:saveMask', { sampleId: crack, png: maskPng([1, 2]) });
    await host.invoke('annotate:saveMask', { sampleId: crack, png: maskPng([3]) });
    await host.invoke('annotate:saveMask', { sampleId: weld, png: maskPng([5]) });
    // A revert points the row back at the first version; the second stays in the history.
    const crackHistory = (await host.invoke('annotate:history', { sampleId: crack })) as AnnotationHistoryEntry[];
    const weldHistory = (await host.invoke('annotate:history', { sampleId: weld })) as AnnotationHistoryEntry[];
    const second = crackHistory.find((h) => h.change.kind === 'mask' && h.change.mask?.[0] !== null)!;
    await host.invoke('annotate:revert', { historyId: second.id });
    await host.close();

    const versions = [...crackHistory, ...weldHistory].flatMap((h) => h.change.mask ?? []).filter((m): m is string => m !== null);
    expect(new Set(versions).size).toBe(3);
    const dsDir = join(dir, 'masks', versions[0]!.split('/')[1]!);
    // Every real mask is old too: only the store's reference may keep it.
    for (const v of versions) await age(join(dir, v), 3600);

    const staleTmp = join(dsDir, `${crack}.abc-1234.png.0123456789ab.tmp`);
    const freshTmp = join(dsDir, `${weld}.abc-5678.png.ba9876543210.tmp`);
    const orphan = join(dsDir, `${crack}.zzz-deadbeef.png`);
    const freshOrphan = join(dsDir, `${weld}.zzz-cafebabe.png`);
    const outside = join(dir, 'stale-outside.tmp');
    for (const f of [staleTmp, freshTmp, orphan, freshOrphan, outside]) await writeFile(f, 'x');
    for (const f of [staleTmp, orphan, outside]) await age(f, 3600);

    const reopened = await openSmallWorkspace(await tmp(), dir);
    try {
      expect(reopened.host.currentLab()!.maskSweep).toEqual({ removedTmp: 1, removedOrphans: 1 });
      for (const v of versions) expect(existsSync(join(dir, v)), v).toBe(true);
      expect(existsSync(staleTmp)).toBe(false);
      expect(existsSync(orphan)).toBe(false);
      expect(existsSync(freshTmp)).toBe(true);
      expect(existsSync(freshOrphan)).toBe(true);
      expect(existsSync(outside)).toBe(true);
      expect((await readdir(dsDir)).sort()).toEqual([...new Set(versions.map((v) => v.split('/')[2]!)), `${weld}.abc-5678.png.ba9876543210.tmp`, `${weld}.zzz-cafebabe.png`].sort());
      // The reverted-to mask still reads back through the file rule.
      const now = (await reopened.host.invoke('annotate:get', { sampleId: crack })) as { maskPath: string | null };
      expect(now.maskPath).not.toBeNull();
      expect(existsSync(now.maskPath!)).toBe(true);
    } finally {
      await reopened.host.close();
    }
  });
});
