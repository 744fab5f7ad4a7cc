/** Input validation of the library:* calls: limits on page size and id lists, strict shapes. */
import { describe, expect, it } from 'vitest';
import { parseCallInput } from '../../src/shared/contract';
import { LIBRARY_PAGE_MAX, LIBRARY_THUMB_IDS_MAX } from '../../src/shared/calls/library';

describe('library call inputs', () => {
  it('fills defaults for a bare query', () => {
    expect(parseCallInput('library:query', {})).toEqual({ filter: {}, sort: { key: 'default', desc: false }, offset: 0, limit: 200 });
    expect(parseCallInput('library:facets', undefined)).toEqual({ filter: {} });
  });

  it('refuses pages and id lists over their limits, and non-positive ids', () => {
    expect(() => parseCallInput('library:query', { limit: LIBRARY_PAGE_MAX + 1 })).toThrow(/library:query: limit/);
    expect(() => parseCallInput('library:query', { offset: -1 })).toThrow(/offset/);
    const ids = Array.from({ length: LIBRARY_THUMB_IDS_MAX + 1 }, (_, i) => i + 1);
    expect(() => parseCallInput('library:thumbnails', { ids })).toThrow(/library:thumbnails: ids/);
    expect(() => parseCallInput('library:thumbnails', { ids: [] })).toThrow(/ids/);
    expect(() => parseCallInput('library:sample', { id: 0 })).toThrow(/id/);
    expect(() => parseCallInput('library:sample', { id: 1.5 })).toThrow(/id/);
  });

  it('refuses unknown fields, sort keys and facet values', () => {
    expect(() => parseCallInput('library:query', { filter: { colour: ['red'] } })).toThrow(/filter/);
    expect(() => parseCallInput('library:query', { sort: { key: 'random' } })).toThrow(/sort.key/);
    expect(() => parseCallInput('library:facets', { filter: { split: ['validation'] } })).toThrow(/filter.split/);
    expect(() => parseCallInput('library:facets', { filter: { search: 'x'.repeat(201) } })).toThrow(/filter.search/);
    expect(() => parseCallInput('library:selection', { selection: { mode: 'all' } })).toThrow(/selection/);
    expect(() => parseCallInput('library:selection', { selection: { mode: 'filter', filter: {}, except: [-3] } })).toThrow(/selection.except/);
  });

  it('accepts a selection as a filter minus exceptions', () => {
    const parsed = parseCallInput('library:selection', { selection: { mode: 'filter', filter: { kind: ['anomalous'] }, except: [3, 4] } });
    expect(parsed.selection).toEqual({ mode: 'filter', filter: { kind: ['anomalous'] }, except: [3, 4] });
    expect(parsed.limit).toBe(10_000);
  });
});
