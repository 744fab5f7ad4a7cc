/**
 * Annotation through the host, as every door reaches it: Table A.1 enforcement in the core,
 * review states, versions, history and revert, bulk edits over a Library selection, masks
 * written into the workspace and read back by the Library.
 */
import { describe, expect, it } from 'vitest';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Annotation, AnnotationHistoryEntry } from '../../src/shared/calls/annotate';
import type { LibraryFacets, LibrarySampleDetail } from '../../src/shared/calls/library';
import { decodePng } from '../../src/main/core/image/png';
import { useTmpDirs } from '../helpers/tmp';
import { H, maskPng, openSmallWorkspace, W } from './helpers';

const tmp = useTmpDirs();

describe('annotation core', () => {
  it('starts from the dataset label and refuses defect types outside the scenario\'s Table A.1 row', async () => {
    const { host, id } = await openSmallWorkspace(await tmp());
    const crack = id('wind_turbine/test/crack/000.png');
    const a = (await host.invoke('annotate:get', { sampleId: crack })) as Annotation;
    expect(a).toMatchObject({ label: 'anomalous', defectType: 'crack', reviewState: 'unlabelled', version: 0, datasetLabel: 'crack', allowedDefectTypes: ['crack'], maskEdited: false });
    // weld_pit is a MIAD defect type, but not a wind turbine's.
    await expect(host.invoke('annotate:set', { sampleId: crack, defectType: 'weld_pit' })).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/weld_pit.*wind_turbine/) });
    await expect(host.invoke('annotate:set', { sampleId: crack, defectType: 'nonsense' })).rejects.toMatchObject({ name: 'ValidationError' });
    // Outside MIAD there is no Table A.1 row: no defect type is accepted.
    const bottle = id('bottle/test/broken_large/000.png');
    expect(((await host.invoke('annotate:get', { sampleId: bottle })) as Annotation)).toMatchObject({ defectType: null, allowedDefectTypes: [] });
    await expect(host.invoke('annotate:set', { sampleId: bottle, defectType: 'broken_large' })).rejects.toMatchObject({ name: 'ValidationError' });
    // A good sample has no defect type.
    await expect(host.invoke('annotate:set', { sampleId: crack, label: 'good', defectType: 'crack' })).rejects.toMatchObject({ name: 'ValidationError' });
    // Refusals changed nothing.
    expect(((await host.invoke('annotate:get', { sampleId: crack })) as Annotation).version).toBe(0);
    expect(await host.invoke('annotate:history', { sampleId: crack })).toEqual([]);
    await expect(host.invoke('annotate:get', { sampleId: 9999 })).rejects.toMatchObject({ name: 'NotFoundError' });
    await host.close();
  });

  it('edits label, type and review state with history, versions and revert; the Library follows', async () => {
    const { host, id } = await openSmallWorkspace(await tmp());
    const good = id('metal_welding/test/good/000.png');
    let a = (await host.invoke('annotate:set', { sampleId: good, defectType: 'weld_beading' })) as Annotation;
    // A defect type implies anomalous; the first edit moves unlabelled to labelled.
    expect(a).toMatchObject({ label: 'anomalous', defectType: 'weld_beading', reviewState: 'labelled', version: 1 });
    a = (await host.invoke('annotate:set', { sampleId: good, reviewState: 'reviewed', expectedVersion: 1 })) as Annotation;
    expect(a.version).toBe(2);
    // A stale editor is refused, and nothing changes.
    await expect(host.invoke('annotate:set', { sampleId: good, label: 'good', expectedVersion: 1 })).rejects.toMatchObject({ name: 'ConflictError' });
    // The same values again are no edit.
    expect(((await host.invoke('annotate:set', { sampleId: good, reviewState: 'reviewed' })) as Annotation).version).toBe(2);

    const detail = (await host.invoke('library:sample', { id: good })) as LibrarySampleDetail;
    expect(detail.label).toBe('weld_beading');
    const facets = (await host.invoke('library:facets', { filter: { scenario: ['metal_welding'] } })) as LibraryFacets;
    expect(facets.facets.label.filter((v) => v.count > 0)).toEqual(expect.arrayContaining([{ value: 'weld_beading', count: 1 }, { value: 'weld_pit', count: 1 }]));
    expect(facets.facets.label.find((v) => v.value === 'good')?.count ?? 0).toBe(0);

    const history = (await host.invoke('annotate:history', { sampleId: good })) as AnnotationHistoryEntry[];
    expect(history.map((h) => h.change)).toEqual([
      { kind: 'set', label: ['good', 'anomalous'], defectType: [null, 'weld_beading'], reviewState: ['unlabelled', 'labelled'] },
      { kind: 'set', reviewState: ['labelled', 'reviewed'] },
    ]);
    // Reverting the first entry puts back its fields' old values and is itself recorded.
    a = (await host.invoke('annotate:revert', { historyId: history[0]!.id })) as Annotation;
    expect(a).toMatchObject({ label: 'good', defectType: null, reviewState: 'unlabelled', version: 3 });
    const after = (await host.invoke('annotate:history', { sampleId: good })) as AnnotationHistoryEntry[];
    expect(after[2]!.change).toMatchObject({ kind: 'revert', revertOf: history[0]!.id, label: ['anomalous', 'good'] });
    expect(((await host.invoke('library:sample', { id: good })) as LibrarySampleDetail).label).toBe('good');
    // The dataset's own row is untouched.
    expect(a.datasetLabel).toBe('good');
    await expect(host.invoke('annotate:revert', { historyId: 12345 })).rejects.toMatchObject({ name: 'NotFoundError' });
    await host.close();
  });

  it('bulk edits a Library selection all or nothing, and flags samples out of training', async () => {
    const { host, id } = await openSmallWorkspace(await tmp());
    const wind = { mode: 'filter' as const, filter: { scenario: ['wind_turbine'] }, except: [] };
    expect(await host.invoke('annotate:bulk', { selection: wind, reviewState: 'reviewed' })).toEqual({ changed: 2, unchanged: 0 });
    expect(await host.invoke('annotate:bulk', { selection: wind, reviewState: 'reviewed' })).toEqual({ changed: 0, unchanged: 2 });
    // One sample outside wind_turbine's row makes the whole bulk edit fail, changing nothing.
    const mixed = { mode: 'ids' as const, ids: [id('wind_turbine/train/good/000.png'), id('metal_welding/test/good/000.png')] };
    await expect(host.invoke('annotate:bulk', { selection: mixed, defectType: 'crack' })).rejects.toMatchObject({ name: 'ValidationError' });
    expect(((await host.invoke('annotate:get', { sampleId: id('wind_turbine/train/good/000.png') })) as Annotation)).toMatchObject({ label: 'good', version: 1 });
    expect(await host.invoke('annotate:flagTraining', { selection: { mode: 'ids', ids: [id('wind_turbine/train/good/000.png')] }, excluded: true })).toEqual({ changed: 1, unchanged: 0 });
    expect(((await host.invoke('annotate:get', { sampleId: id('wind_turbine/train/good/000.png') })) as Annotation).excludedFromTraining).toBe(true);
    await host.close();
  });

  it('saves masks as 0/255 PNGs in the workspace, refuses other sizes, and keeps every version revertible', async () => {
    const { host, dir, id } = await openSmallWorkspace(await tmp());
    const crack = id('wind_turbine/test/crack/000.png');
    const datasetMask = ((await host.invoke('annotate:get', { sampleId: crack })) as Annotation).maskPath!;
    const datasetBytes = await readFile(datasetMask);
    // Any value ≥ 128 counts as defect; the file holds 0/255 only.
    const a = (await host.invoke('annotate:saveMask', { sampleId: crack, png: maskPng([0, 9, 47], 200) })) as Annotation;
    expect(a).toMatchObject({ maskEdited: true, version: 1 });
    expect(a.maskPath!.startsWith(join(dir, 'masks'))).toBe(true);
    const img = decodePng(await readFile(a.maskPath!));
    expect([img.width, img.height, img.channels]).toEqual([W, H, 1]);
    expect([...img.data].map((v, i) => (v ? i : -1)).filter((i) => i >= 0)).toEqual([0, 9, 47]);
    expect(new Set(img.data)).toEqual(new Set([0, 255]));
    // The dataset's mask is never written.
    expect(await readFile(datasetMask)).toEqual(datasetBytes);
    const detail = (await host.invoke('library:sample', { id: crack })) as LibrarySampleDetail;
    expect(detail.maskPath).toBe(a.maskPath);

    const { encodePng } = await import('../../src/main/core/image/png');
    const wrong = encodePng(new Uint8Array(4 * 4), 4, 4, 1).toString('base64');
    await expect(host.invoke('annotate:saveMask', { sampleId: crack, png: wrong })).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/4×4.*8×6/) });
    await expect(host.invoke('annotate:saveMask', { sampleId: crack, png: Buffer.from('not a png').toString('base64') })).rejects.toMatchObject({ name: 'ValidationError' });

    // Two editors that both loaded version 1: the later save wins, both are in the history.
    const [first, second] = await Promise.all([
      host.invoke('annotate:saveMask', { sampleId: crack, png: maskPng([1]) }),
      host.invoke('annotate:saveMask', { sampleId: crack, png: maskPng([2]) }),
    ]) as [Annotation, Annotation];
    expect([first.version, second.version].sort()).toEqual([2, 3]);
    const history = (await host.invoke('annotate:history', { sampleId: crack })) as AnnotationHistoryEntry[];
    expect(history.filter((h) => h.change.kind === 'mask')).toHaveLength(3);
    // Revert of the first mask edit brings back the dataset's mask.
    const back = (await host.invoke('annotate:revert', { historyId: history[0]!.id })) as Annotation;
    expect(back).toMatchObject({ maskEdited: false, maskPath: datasetMask });
    // And reverting that revert brings back the edited file, still on disk.
    const h2 = (await host.invoke('annotate:history', { sampleId: crack })) as AnnotationHistoryEntry[];
    const again = (await host.invoke('annotate:revert', { historyId: h2.at(-1)!.id })) as Annotation;
    expect(again.maskEdited).toBe(true);
    expect((await stat(again.maskPath!)).isFile()).toBe(true);
    expect((await readdir(join(dir, 'masks', String(a.datasetId)))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await host.close();
  });
});
