/**
 * The Library's review-state and training facets: they read the workspace's annotations (a sample
 * never edited is `unlabelled` and included), count live like the other facets, filter the grid,
 * and a bulk edit over a filter selection moves the counts; the packed and row-by-row scans agree.
 */
import { describe, expect, it } from 'vitest';
import { LIBRARY_REVIEW_VALUES, type LibraryFacets, type LibraryPage } from '../../src/shared/calls/library';
import { REVIEW_STATES } from '../../src/shared/calls/annotate';
import { LibraryRepo } from '../../src/main/core/store/library-repo';
import { Store } from '../../src/main/core/store/store';
import { useTmpDirs } from '../helpers/tmp';
import { openSmallWorkspace } from '../annotate/helpers';

const tmp = useTmpDirs();

const counts = (f: LibraryFacets, facet: 'review' | 'training') => Object.fromEntries(f.facets[facet].map((v) => [v.value, v.count]));

describe('review and training facets', () => {
  it('lists the same review states as the annotation calls', () => {
    expect([...LIBRARY_REVIEW_VALUES]).toEqual([...REVIEW_STATES]);
  });

  it('counts, filters and follows bulk edits and training flags', async () => {
    const { host, id, dir } = await openSmallWorkspace(await tmp());
    const facets = async (filter: object = {}) => (await host.invoke('library:facets', { filter })) as LibraryFacets;
    const query = async (filter: object) => ((await host.invoke('library:query', { filter })) as LibraryPage).rows.map((r) => r.relPath).sort();

    expect(counts(await facets(), 'review')).toEqual({ unlabelled: 5, labelled: 0, reviewed: 0, rejected: 0 });
    expect(counts(await facets(), 'training')).toEqual({ included: 5, excluded: 0 });

    await host.invoke('annotate:set', { sampleId: id('wind_turbine/test/crack/000.png'), reviewState: 'reviewed' });
    await host.invoke('annotate:set', { sampleId: id('metal_welding/test/good/000.png'), reviewState: 'rejected' });
    // Bulk over "every metal_welding sample": the weld pit becomes reviewed, the rejected good one too.
    const bulk = await host.invoke('annotate:bulk', { selection: { mode: 'filter', filter: { scenario: ['metal_welding'] }, except: [] }, reviewState: 'reviewed' });
    expect(bulk).toEqual({ changed: 2, unchanged: 0 });
    await host.invoke('annotate:flagTraining', { selection: { mode: 'ids', ids: [id('wind_turbine/train/good/000.png')] }, excluded: true });

    const all = await facets();
    expect(counts(all, 'review')).toEqual({ unlabelled: 2, labelled: 0, reviewed: 3, rejected: 0 });
    expect(counts(all, 'training')).toEqual({ included: 4, excluded: 1 });
    expect(await query({ review: ['reviewed'] })).toEqual(['metal_welding/test/good/000.png', 'metal_welding/test/weld_pit/000.png', 'wind_turbine/test/crack/000.png']);
    expect(await query({ training: ['excluded'] })).toEqual(['wind_turbine/train/good/000.png']);
    expect(await query({ review: ['unlabelled'], training: ['included'] })).toEqual(['bottle/test/broken_large/000.png']);

    // Live counts: with review = reviewed ticked, the review facet still counts every state under
    // the other facets, and the training facet counts within the reviewed samples only.
    const ticked = await facets({ review: ['reviewed'], scenario: ['wind_turbine'] });
    expect(ticked.total).toBe(1);
    expect(counts(ticked, 'review')).toEqual({ unlabelled: 1, labelled: 0, reviewed: 1, rejected: 0 });
    expect(counts(ticked, 'training')).toEqual({ included: 1, excluded: 0 });
    await host.close();

    // The packed scan (group_concat) and the row-by-row fallback read the same columns.
    const store = Store.open(dir);
    try {
      const repo = new LibraryRepo(store);
      const packed = repo.scanColumns();
      expect(packed).toEqual(repo.scanRows());
      expect([...packed.reviews].sort()).toEqual([0, 0, 2, 2, 2]);
      expect(packed.excluded.reduce((a, b) => a + b, 0)).toBe(1);
    } finally {
      store.close();
    }
  });
});
