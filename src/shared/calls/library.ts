/**
 * Calls of the `library:*` domain: the Library view's faceted browsing of every sample of the
 * workspace (issue 3). One filter shape serves the page query, the live facet counts and the
 * selection, so the UI sends the same object to each and "select all in the filter" can travel as
 * that filter minus a few exceptions instead of 100,000 ids.
 */
import { z } from 'zod';
import type { Split } from '../types';
import { idInput, returns } from './define';
import { SUSPICION_BINS } from './checks';

/** Most rows one `library:query` page may return: a screenful of the grid with room to spare. */
export const LIBRARY_PAGE_MAX = 1000;
/** Most ids one `library:thumbnails` call may name (a screen of small tiles, prefetch included). */
export const LIBRARY_THUMB_IDS_MAX = 400;
/** Most exceptions a "filter minus exceptions" selection may carry; beyond that the UI keeps ids. */
export const LIBRARY_EXCEPT_MAX = 100_000;
/** Longest edge of a generated thumbnail, in pixels. */
export const THUMB_MAX_SIDE = 256;

const name = z.string().min(1).max(200);

/**
 * The review states an annotation can be in; the same list as `REVIEW_STATES` of calls/annotate.ts
 * (which imports this module, so it cannot be imported from there; a test checks they agree).
 */
export const LIBRARY_REVIEW_VALUES = ['unlabelled', 'labelled', 'reviewed', 'rejected'] as const;
/** Whether a sample goes into training sets (`excluded`: flagged as showing a defect). */
export const LIBRARY_TRAINING_VALUES = ['included', 'excluded'] as const;

/**
 * The filter of the Library. Values inside one facet are OR'ed, facets are AND'ed; an absent or
 * empty facet does not filter. `problems` matches a sample having any of the listed codes;
 * the pseudo-code `none` matches samples without problems.
 */
export const libraryFilterSchema = z
  .object({
    datasetId: idInput.optional(),
    scenario: z.array(name).max(64).optional(),
    split: z.array(z.enum(['train', 'test'])).max(2).optional(),
    kind: z.array(z.enum(['good', 'anomalous'])).max(2).optional(),
    label: z.array(name).max(256).optional(),
    mask: z.array(z.enum(['with', 'without'])).max(2).optional(),
    problems: z.array(z.string().min(1).max(100)).max(64).optional(),
    /** The workspace's review state (a sample never edited is `unlabelled`). */
    review: z.array(z.enum(LIBRARY_REVIEW_VALUES)).max(4).optional(),
    training: z.array(z.enum(LIBRARY_TRAINING_VALUES)).max(2).optional(),
    /** The bin of the sample's score in the shown training-set check of its scenario (checks:*). */
    suspicion: z.array(z.enum(SUSPICION_BINS)).max(4).optional(),
    /** Case-insensitive substring of the path relative to the dataset root. */
    search: z.string().max(200).optional(),
  })
  .strict();

export type LibraryFilter = z.output<typeof libraryFilterSchema>;

/** The facets that get live counts, in the order the UI shows them. */
export const LIBRARY_FACETS = ['scenario', 'split', 'kind', 'label', 'mask', 'review', 'training', 'suspicion', 'problems'] as const;
export type LibraryFacet = (typeof LIBRARY_FACETS)[number];

export const LIBRARY_SORTS = ['default', 'path', 'label', 'fileSize', 'imported'] as const;
export type LibrarySortKey = (typeof LIBRARY_SORTS)[number];

export const librarySortSchema = z
  .object({
    key: z.enum(LIBRARY_SORTS).default('default'),
    desc: z.boolean().default(false),
  })
  .strict();

export type LibrarySort = z.output<typeof librarySortSchema>;

/** A selection that costs the same for 3 samples or 100,000: explicit ids, or a filter minus exceptions. */
export const librarySelectionSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('ids'), ids: z.array(idInput).max(LIBRARY_EXCEPT_MAX) }).strict(),
  z
    .object({
      mode: z.literal('filter'),
      filter: libraryFilterSchema,
      except: z.array(idInput).max(LIBRARY_EXCEPT_MAX),
    })
    .strict(),
]);

export type LibrarySelection = z.output<typeof librarySelectionSchema>;

/** One grid row: what a tile and its tooltip need, nothing more. */
export interface LibraryRow {
  id: number;
  datasetId: number;
  scenario: string;
  split: Split;
  /** `good` or the defect type name (folder style). */
  label: string;
  relPath: string;
  hasMask: boolean;
  /** Problem codes found by the importer; empty when none (or never checked). */
  problems: string[];
  width: number;
  height: number;
}

export interface LibraryPage {
  /** Samples matching the filter. */
  total: number;
  offset: number;
  rows: LibraryRow[];
}

export interface FacetValue {
  value: string;
  count: number;
}

/**
 * Per facet, the count of every value under the filter with that facet's own selection left out
 * (the usual "live counts": picking a second scenario shows how many it would add).
 */
export interface LibraryFacets {
  total: number;
  facets: Record<LibraryFacet, FacetValue[]>;
}

/** Everything the sample viewer shows. */
export interface LibrarySampleDetail extends LibraryRow {
  datasetName: string;
  /** Absolute paths, for fileUrl(). */
  path: string;
  maskPath: string | null;
  maskRelPath: string | null;
  format: string | null;
  /** Bytes; read from the file when the store has no figure (demo workspaces). */
  fileSize: number | null;
  mtimeMs: number | null;
  /** sha256 of the file bytes, hex. */
  contentHash: string | null;
  /** `store` when the importer recorded the hash, `computed` when hashed now for this view. */
  hashSource: 'store' | 'computed' | null;
  sourceFolder: string | null;
  /** Set when the image file could not be read. */
  fileError: string | null;
}

export interface ThumbnailItem {
  id: number;
  /** Absolute path of the cached thumbnail (under `<workspace>/thumbs/`), or null on error. */
  path: string | null;
  error: string | null;
}

export const libraryCalls = {
  'library:query': {
    input: z
      .object({
        filter: libraryFilterSchema.default({}),
        sort: librarySortSchema.default({ key: 'default', desc: false }),
        offset: z.number().int().min(0).max(10_000_000).default(0),
        limit: z.number().int().min(1).max(LIBRARY_PAGE_MAX).default(200),
      })
      .strict(),
    result: returns<LibraryPage>(),
  },
  'library:facets': {
    input: z.object({ filter: libraryFilterSchema.default({}) }).strict(),
    result: returns<LibraryFacets>(),
  },
  'library:sample': {
    input: z.object({ id: idInput }).strict(),
    result: returns<LibrarySampleDetail>(),
  },
  'library:thumbnails': {
    input: z.object({ ids: z.array(idInput).min(1).max(LIBRARY_THUMB_IDS_MAX) }).strict(),
    result: returns<{ items: ThumbnailItem[] }>(),
  },
  /** The ids of a selection, in the sort order, a page at a time: for actions on a selection. */
  'library:selection': {
    input: z
      .object({
        selection: librarySelectionSchema,
        sort: librarySortSchema.default({ key: 'default', desc: false }),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(100_000).default(10_000),
      })
      .strict(),
    result: returns<{ total: number; ids: number[] }>(),
  },
} as const;

export const libraryEvents = {} as const;
