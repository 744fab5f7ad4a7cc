/**
 * The Library of one open workspace: the `library:*` calls over the store. It keeps the
 * in-memory index (library-index.ts) and rebuilds it when the store's data version moves, so
 * writers (import, labelling) never have to notify it; and it owns the thumbnail cache.
 */
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LibraryFacets, LibraryFilter, LibraryPage, LibrarySampleDetail, LibrarySelection, LibrarySort, ThumbnailItem } from '../../../shared/calls/library';
import { LabError } from '../../../shared/errors';
import { sha256File } from '../fs-util';
import type { LibraryRepo } from '../store/library-repo';
import { LibraryIndex } from './library-index';
import { ThumbnailCache, type ThumbnailCacheOptions } from './thumbnails';

export interface LibraryServiceOptions {
  repo: LibraryRepo;
  /** The workspace's thumbs folder. */
  thumbsDir: string;
  thumbnails?: Omit<ThumbnailCacheOptions, 'dir'>;
}

export class LibraryService {
  private readonly repo: LibraryRepo;
  private readonly thumbs: ThumbnailCache;
  private readonly thumbsDir: string;
  private index: LibraryIndex | null = null;
  private indexVersion = '';
  /** The samples' change counter and the last annotation change the index reflects. */
  private indexMark = { structure: -1, seq: 0 };
  /** How the index kept up: full rebuilds, and in-place updates after annotation edits (tests and bench read them). */
  readonly stats = { rebuilds: 0, patches: 0 };

  constructor(options: LibraryServiceOptions) {
    this.repo = options.repo;
    this.thumbsDir = options.thumbsDir;
    this.thumbs = new ThumbnailCache({ dir: options.thumbsDir, ...options.thumbnails });
  }

  /**
   * The index for the store as it is now. Any committed write moves the data version; then the
   * store's own change log (migration 6) says what moved: samples (import, rescan) → rebuild from
   * one scan; annotations only → those samples are updated in place; neither (a run's progress,
   * settings) → the index stands.
   */
  current(): LibraryIndex {
    const version = this.repo.dataVersion();
    if (this.index !== null && version === this.indexVersion) return this.index;
    const mark = this.repo.libraryMark();
    if (this.index === null || mark.structure !== this.indexMark.structure || !this.patch(mark.seq)) {
      this.index = new LibraryIndex(this.repo.scanColumns());
      this.stats.rebuilds++;
      this.prune(mark.seq);
    }
    this.indexMark = mark;
    // Read after the prune: a write of our own moves total_changes.
    this.indexVersion = this.repo.dataVersion();
    return this.index;
  }

  /** Applies the annotation changes after the index's mark; false when the index must be rebuilt instead. */
  private patch(seq: number): boolean {
    if (seq === this.indexMark.seq) return true;
    const changes = this.repo.annotationChangesSince(this.indexMark.seq);
    // Pruned by another reader, or many edits at once (a bulk action: one scan is cheaper than many moves).
    if (changes === null || changes.ids.length > 2000) return false;
    if (!this.index!.applyAnnotations(this.repo.annotationColumns(changes.ids))) return false;
    this.stats.patches++;
    this.prune(changes.seq);
    return true;
  }

  /** Drops applied change rows now and then (only the main process's Library reads them). */
  private prune(seq: number): void {
    if (seq - this.prunedTo < 256) return;
    this.repo.pruneAnnotationChanges(seq);
    this.prunedTo = seq;
  }

  private prunedTo = 0;

  query(filter: LibraryFilter, sort: LibrarySort, offset: number, limit: number): LibraryPage {
    const { total, rows } = this.current().page(filter, sort, offset, limit);
    return { total, offset, rows };
  }

  facets(filter: LibraryFilter): LibraryFacets {
    return this.current().facets(filter);
  }

  selection(selection: LibrarySelection, sort: LibrarySort, offset: number, limit: number): { total: number; ids: number[] } {
    const ids = this.current().selectionIds(selection, sort);
    return { total: ids.length, ids: ids.slice(offset, offset + limit) };
  }

  /**
   * Everything the viewer shows about one sample. File size and hash come from the store when
   * the importer recorded them, else from the file now (demo workspaces record neither).
   */
  async sample(id: number): Promise<LibrarySampleDetail> {
    const row = this.repo.detail(id);
    if (!row) throw new LabError(`no sample with id ${id} in this workspace`, 'NotFoundError');
    const base = this.current().rowById(id);
    const path = join(row.root, row.rel_path);
    let fileSize = row.file_size;
    let mtimeMs = row.mtime_ms;
    let contentHash = row.content_hash;
    let hashSource: LibrarySampleDetail['hashSource'] = contentHash ? 'store' : null;
    let fileError: string | null = null;
    try {
      if (fileSize === null || mtimeMs === null) {
        const info = await stat(path);
        fileSize ??= info.size;
        mtimeMs ??= Math.trunc(info.mtimeMs);
      }
      if (contentHash === null) {
        contentHash = await sha256File(path);
        hashSource = 'computed';
      }
    } catch (error) {
      fileError = `cannot read the image: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    }
    return {
      id: row.id,
      datasetId: row.dataset_id,
      datasetName: row.dataset_name,
      scenario: row.scenario,
      split: row.split,
      label: row.label,
      relPath: row.rel_path,
      hasMask: row.mask_rel_path !== null || row.edited_mask_path !== null,
      problems: base?.problems ?? [],
      width: row.width,
      height: row.height,
      path,
      // The workspace's edited mask (under <workspace>/masks, a sibling of thumbs/) wins over the dataset's.
      maskPath: row.edited_mask_path ? join(dirname(this.thumbsDir), row.edited_mask_path) : row.mask_rel_path ? join(row.root, row.mask_rel_path) : null,
      // An edited mask's path is relative to the workspace (masks/<datasetId>/…), the dataset's to its root.
      maskRelPath: row.edited_mask_path ?? row.mask_rel_path,
      format: row.format,
      fileSize,
      mtimeMs,
      contentHash,
      hashSource,
      sourceFolder: row.source_folder,
      fileError,
    };
  }

  /** Thumbnails of the given ids, in that order; an unknown id gets an error item. */
  async thumbnails(ids: readonly number[]): Promise<ThumbnailItem[]> {
    const byId = new Map(this.repo.thumbSources(ids).map((r) => [r.id, r]));
    const known = [...new Set(ids)].flatMap((id) => {
      const r = byId.get(id);
      return r ? [{ id, path: join(r.root, r.rel_path), contentHash: r.content_hash, fileSize: r.file_size, mtimeMs: r.mtime_ms }] : [];
    });
    const made = new Map((await this.thumbs.get(known)).map((item) => [item.id, item]));
    return ids.map((id) => made.get(id) ?? { id, path: null, error: `no sample with id ${id} in this workspace` });
  }
}
