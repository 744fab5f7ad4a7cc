/**
 * Walks a dataset folder and recognises its layout without reading any file: the MVTec AD / MIAD
 * tree (`<scenario>/train/good`, `<scenario>/test/<class>`, `<scenario>/ground_truth/<defect>`),
 * the extra `<scenario>/<scenario>/` level some copies add, or a single scenario folder given as
 * the root. Everything that does not fit is reported, not dropped: unreadable folders, symbolic
 * link loops, links that leave the dataset folder (never followed: staysInsideRoot, the rule the
 * file doors apply too), non-image files, folders outside the layout.
 *
 * The file system comes in as a parameter (WalkFs) so tests can make a folder unreadable even
 * when they run as root, where permissions do not stop readdir.
 */
import * as nodeFs from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { basename, sep } from 'node:path';
import type { DatasetKind, ScenarioLayout } from '../../../../shared/calls/import';
import { isGoodFolder, matchScenarioFolder, normaliseName } from './aliases';
import { ProblemLog } from './problems';
import { imageExtension, isGroundTruthFolder } from '../layout';
import { staysInsideRoot } from '../../fs-util';

export interface WalkFs {
  readdir(path: string): Promise<Dirent[]>;
  stat(path: string): Promise<{ isDirectory(): boolean; isFile(): boolean }>;
  realpath(path: string): Promise<string>;
}

export const nodeWalkFs: WalkFs = {
  readdir: (path) => nodeFs.readdir(path, { withFileTypes: true }),
  stat: (path) => nodeFs.stat(path),
  realpath: (path) => nodeFs.realpath(path),
};

export interface WalkedImage {
  /** Relative to the dataset root, forward slashes. */
  rel: string;
  scenario: string;
  split: 'train' | 'test';
  /** The class folder as found on disk (`good` or a defect folder). */
  folder: string;
  good: boolean;
  /** File name without its image extension. */
  stem: string;
}

export interface WalkedMask {
  rel: string;
  scenario: string;
  folder: string;
  stem: string;
}

export interface DatasetWalk {
  root: string;
  kind: DatasetKind;
  scenarios: ScenarioLayout[];
  images: WalkedImage[];
  masks: WalkedMask[];
  problems: ProblemLog;
  /** Folders under the dataset root visited (for progress). */
  folders: number;
}

type Entry = { name: string; kind: 'dir' | 'file' | 'other'; abs: string; real: string | null };

const TRAIN = 'train';
const TEST = 'test';

/** `a/b`, or either alone when the other is empty (per file: no array, no filter). */
function relJoin(a: string, b: string): string {
  return a.length === 0 ? b : b.length === 0 ? a : `${a}/${b}`;
}

/** join(dir, name) for a name read from `dir` (no separator in it, `dir` already normalised), without join's normalising pass. */
function childPath(dir: string, name: string): string {
  return dir.endsWith(sep) ? dir + name : dir + sep + name;
}

class Walker {
  readonly problems = new ProblemLog();
  folders = 0;

  constructor(
    private readonly fs: WalkFs,
    /** The dataset root's real path: a link whose target lies outside it is not followed. */
    private readonly rootReal: string,
    private readonly onFolder: (n: number) => void,
  ) {}

  /**
   * The entries of a folder, symbolic links resolved: a link to a folder already on the path
   * (`ancestors`, real paths) is a loop and is reported instead of listed.
   */
  async list(abs: string, rel: string, ancestors: ReadonlySet<string>): Promise<Entry[] | null> {
    let dirents: Dirent[];
    try {
      dirents = await this.fs.readdir(abs);
    } catch (error) {
      this.problems.add('unreadable-folder', rel || '.', (error as NodeJS.ErrnoException).code ?? (error as Error).message);
      return null;
    }
    this.folders++;
    this.onFolder(this.folders);
    const out: Entry[] = [];
    for (const d of dirents) {
      const childAbs = childPath(abs, d.name);
      const childRel = relJoin(rel, d.name);
      if (d.isDirectory()) {
        out.push({ name: d.name, kind: 'dir', abs: childAbs, real: null });
      } else if (d.isFile()) {
        out.push({ name: d.name, kind: 'file', abs: childAbs, real: null });
      } else if (d.isSymbolicLink()) {
        try {
          // Where the link leads is settled before anything there is read (not even its type).
          const real = await this.fs.realpath(childAbs);
          if (!staysInsideRoot(this.rootReal, real)) {
            this.problems.add('symlink-outside', childRel, `links to ${real}, outside the dataset folder`);
            continue;
          }
          const target = await this.fs.stat(childAbs);
          if (target.isDirectory()) {
            if (ancestors.has(real)) {
              this.problems.add('symlink-loop', childRel, 'links back to a folder above it');
              continue;
            }
            out.push({ name: d.name, kind: 'dir', abs: childAbs, real });
          } else {
            out.push({ name: d.name, kind: target.isFile() ? 'file' : 'other', abs: childAbs, real: null });
          }
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ELOOP') this.problems.add('symlink-loop', childRel, 'the link resolves to itself');
          else this.problems.add('unreadable-file', childRel, code === 'ENOENT' ? 'dangling symbolic link' : (code ?? String(error)));
        }
      } else {
        out.push({ name: d.name, kind: 'other', abs: childAbs, real: null });
      }
    }
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return out;
  }

  async realOf(entry: { abs: string; real: string | null }): Promise<string> {
    return entry.real ?? (await this.fs.realpath(entry.abs).catch(() => entry.abs));
  }

  static hasSplits(entries: readonly Entry[]): boolean {
    return entries.some((e) => e.kind === 'dir' && (e.name.toLowerCase() === TRAIN || e.name.toLowerCase() === TEST));
  }
}

function hidden(name: string): boolean {
  return name.startsWith('.');
}

/**
 * Walks `root` (absolute, a folder). `onProgress` gets the number of folders listed so far.
 */
export async function walkDataset(root: string, options: { fs?: WalkFs; onProgress?: (folders: number) => void } = {}): Promise<DatasetWalk> {
  const fs = options.fs ?? nodeWalkFs;
  const rootReal = await fs.realpath(root).catch(() => root);
  const walker = new Walker(fs, rootReal, options.onProgress ?? (() => {}));
  const top = (await walker.list(root, '', new Set([rootReal]))) ?? [];
  const scenarioDirs: { layout: ScenarioLayout; abs: string; entries: Entry[]; ancestors: Set<string> }[] = [];
  let generatedMiadMini = false;

  if (Walker.hasSplits(top)) {
    // The root is itself one scenario folder.
    const match = matchScenarioFolder(basename(root));
    scenarioDirs.push({ layout: { scenario: match.scenario, dir: '', nested: false, family: match.family }, abs: root, entries: top, ancestors: new Set([rootReal]) });
  } else {
    for (const entry of top) {
      if (entry.kind !== 'dir') {
        if (entry.name === 'miad-mini.json') generatedMiadMini = true;
        else if (imageExtension(entry.name) && !hidden(entry.name)) walker.problems.add('unexpected-entry', entry.name, 'image at the dataset root');
        continue;
      }
      if (hidden(entry.name)) continue;
      const real = await walker.realOf(entry);
      const ancestors = new Set([rootReal, real]);
      const entries = await walker.list(entry.abs, entry.name, ancestors);
      if (entries === null) continue;
      const match = matchScenarioFolder(entry.name);
      if (Walker.hasSplits(entries)) {
        scenarioDirs.push({ layout: { scenario: match.scenario, dir: entry.name, nested: false, family: match.family }, abs: entry.abs, entries, ancestors });
        continue;
      }
      // `<scenario>/<scenario>/train…`: the nesting level copies in the wild add.
      const inner = entries.find((e) => e.kind === 'dir' && normaliseName(e.name) === normaliseName(entry.name));
      if (inner) {
        const innerReal = await walker.realOf(inner);
        const innerAncestors = new Set([...ancestors, innerReal]);
        const innerRel = relJoin(entry.name, inner.name);
        const innerEntries = await walker.list(inner.abs, innerRel, innerAncestors);
        if (innerEntries && Walker.hasSplits(innerEntries)) {
          scenarioDirs.push({ layout: { scenario: match.scenario, dir: innerRel, nested: true, family: match.family }, abs: inner.abs, entries: innerEntries, ancestors: innerAncestors });
          for (const other of entries) if (other !== inner && !hidden(other.name)) walker.problems.add('unexpected-entry', relJoin(entry.name, other.name));
          continue;
        }
      }
      walker.problems.add('unexpected-entry', entry.name, 'folder without train/ or test/');
    }
  }

  // Two folders naming one scenario (`Metal Welding` and `metal_welding`) would mix their samples.
  const seen = new Map<string, string>();
  const unique = scenarioDirs.filter((s) => {
    const first = seen.get(s.layout.scenario);
    if (first !== undefined) {
      walker.problems.add('unexpected-entry', s.layout.dir, `a second folder for scenario ${s.layout.scenario} (first: ${first || '.'})`);
      return false;
    }
    seen.set(s.layout.scenario, s.layout.dir);
    return true;
  });

  const images: WalkedImage[] = [];
  const masks: WalkedMask[] = [];
  await Promise.all(unique.map((s) => walkScenario(walker, s.layout, s.entries, s.ancestors, images, masks)));
  images.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  masks.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));

  const layouts = unique.map((s) => s.layout).sort((a, b) => (a.scenario < b.scenario ? -1 : 1));
  const families = new Set(layouts.map((l) => l.family));
  let kind: DatasetKind = 'folder';
  if (families.size === 1 && families.has('miad')) kind = generatedMiadMini ? 'miad-mini' : 'miad';
  else if (families.size === 1 && families.has('mvtec')) kind = 'mvtec';
  return { root, kind, scenarios: layouts, images, masks, problems: walker.problems, folders: walker.folders };
}

async function walkScenario(
  walker: Walker,
  layout: ScenarioLayout,
  entries: readonly Entry[],
  ancestors: ReadonlySet<string>,
  images: WalkedImage[],
  masks: WalkedMask[],
): Promise<void> {
  const jobs: Promise<void>[] = [];
  for (const entry of entries) {
    const rel = relJoin(layout.dir, entry.name);
    if (hidden(entry.name)) continue;
    if (entry.kind !== 'dir') {
      if (imageExtension(entry.name)) walker.problems.add('unexpected-entry', rel, 'image outside train/, test/ and ground_truth/');
      continue;
    }
    const lower = entry.name.toLowerCase();
    const role = lower === TRAIN ? 'train' : lower === TEST ? 'test' : isGroundTruthFolder(entry.name) ? 'gt' : null;
    if (role === null) {
      walker.problems.add('unexpected-entry', rel, 'folder outside train/, test/ and ground_truth/');
      continue;
    }
    jobs.push(
      (async () => {
        const real = await walker.realOf(entry);
        const splitAncestors = new Set([...ancestors, real]);
        const classes = await walker.list(entry.abs, rel, splitAncestors);
        if (classes === null) return;
        await Promise.all(
          classes.map(async (cls) => {
            const clsRel = relJoin(rel, cls.name);
            if (hidden(cls.name)) return;
            if (cls.kind !== 'dir') {
              if (imageExtension(cls.name)) walker.problems.add('unexpected-entry', clsRel, `image directly in ${entry.name}/, outside a class folder`);
              return;
            }
            const good = isGoodFolder(cls.name);
            if (role === 'train' && !good) {
              walker.problems.add('unexpected-entry', clsRel, 'train/ holds only normal images in this layout');
              return;
            }
            if (role === 'gt' && good) {
              walker.problems.add('unexpected-entry', clsRel, 'masks of normal images are not used');
              return;
            }
            const clsReal = await walker.realOf(cls);
            const files = await walker.list(cls.abs, clsRel, new Set([...splitAncestors, clsReal]));
            if (files === null) return;
            for (const f of files) {
              const fileRel = relJoin(clsRel, f.name);
              if (f.kind === 'dir') {
                walker.problems.add('unexpected-entry', fileRel, 'sub-folder inside a class folder');
                continue;
              }
              const ext = imageExtension(f.name);
              if (f.kind !== 'file' || ext === null) {
                walker.problems.add('not-image', fileRel, f.kind === 'file' ? 'not a .png, .jpg or .jpeg file' : 'not a regular file');
                continue;
              }
              const stem = f.name.slice(0, f.name.length - ext.length);
              if (role === 'gt') masks.push({ rel: fileRel, scenario: layout.scenario, folder: cls.name, stem });
              else images.push({ rel: fileRel, scenario: layout.scenario, split: role, folder: cls.name, good, stem });
            }
          }),
        );
      })(),
    );
  }
  await Promise.all(jobs);
}
