/**
 * THE dataset layout (MVTec AD's, which MIAD follows; DESIGN "MIAD facts"), for everything that
 * reads a dataset's folders: the importer (import/walk.ts, import/plan.ts), the method harness's
 * folder reader (methods/harness/scenario-images.ts), `evaluate` and the run report. Before this
 * module they disagreed on the image extensions, the ground-truth folder's name and which file
 * is an image's mask.
 *
 *   <scenario>/train/good/<name>.<ext>                normal training images
 *   <scenario>/test/good/<name>.<ext>                 normal test images
 *   <scenario>/test/<defect>/<name>.<ext>             anomalous test images
 *   <scenario>/ground_truth/<defect>/<name>_mask.<ext> their masks (`<name>.<ext>` also accepted)
 *
 * - Images are .png, .jpg or .jpeg (any case): what the importer accepts, so what a run can meet.
 * - A scenario folder may be nested once (`<scenario>/<scenario>/...`), as some copies of MIAD are.
 * - The ground-truth folder is `ground_truth`, or a spelling seen in copies (`groundtruth`, `gt`,
 *   `mask`, `masks`), compared after normaliseName.
 * - An image's mask is the file of the ground-truth folder named like its defect folder whose stem
 *   is `<name>_mask`, else `<name>`; `<name>_mask` wins when both exist.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../../../shared/errors';
import { normaliseName } from './import/aliases';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** The image extension of a file name as written (lower-cased), or null when it is not an image. */
export function imageExtension(name: string): string | null {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.find((ext) => lower.endsWith(ext) && lower.length > ext.length) ?? null;
}

/** A file name without its image extension (the name as it is when it has none). */
export function imageStem(name: string): string {
  const ext = imageExtension(name);
  return ext ? name.slice(0, name.length - ext.length) : name;
}

const GROUND_TRUTH_NAMES = new Set(['ground_truth', 'groundtruth', 'gt', 'mask', 'masks']);

export function isGroundTruthFolder(name: string): boolean {
  return GROUND_TRUTH_NAMES.has(normaliseName(name));
}

/** The image stem a mask file's stem belongs to: `<name>_mask` and `<name>` both mask `<name>`. */
export function maskedStem(maskStem: string): string {
  return maskStem.endsWith('_mask') ? maskStem.slice(0, -'_mask'.length) : maskStem;
}

/** Whether a mask stem outranks another for the same image: `<name>_mask` over `<name>`. */
export function preferredMask(candidate: string, current: string | undefined): boolean {
  return current === undefined || (candidate.endsWith('_mask') && !current.endsWith('_mask'));
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `<root>/<scenario>`, or the nested `<root>/<scenario>/<scenario>`: the one that has train/ or test/; null when neither. */
export function findScenarioDir(root: string, scenario: string): string | null {
  for (const dir of [join(root, scenario), join(root, scenario, scenario)]) {
    if (isDir(join(dir, 'train')) || isDir(join(dir, 'test'))) return dir;
  }
  return null;
}

/** findScenarioDir, or a ValidationError naming what is missing. */
export function scenarioDir(root: string, scenario: string): string {
  const dir = findScenarioDir(root, scenario);
  if (dir === null) throw new LabError(`no scenario folder ${scenario} (with train/ or test/) under ${root}`, 'ValidationError');
  return dir;
}

/** Image file names of a folder, sorted; none when it does not exist. */
export function listImageNames(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && imageExtension(e.name) !== null)
      .map((e) => e.name);
  } catch {
    return [];
  }
  return names.sort();
}

/** One test image of a scenario folder. */
export interface LayoutTestImage {
  /** `test/<label>/<name>` */
  rel: string;
  /** Its defect folder, or `good`. */
  label: string;
  stem: string;
  /** Absolute path of its mask; null for `good` images and anomalous ones without a mask. */
  mask: string | null;
}

/** Every test image of a scenario folder by label (sorted), each anomalous one with its mask by the rule above. */
export function listTestImages(dir: string): LayoutTestImage[] {
  const testDir = join(dir, 'test');
  let labels: string[];
  try {
    labels = readdirSync(testDir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
  const gtDirs = (() => {
    try {
      return readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && isGroundTruthFolder(e.name))
        .map((e) => join(dir, e.name))
        .sort((a, b) => (a.endsWith('ground_truth') ? -1 : b.endsWith('ground_truth') ? 1 : a < b ? -1 : 1));
    } catch {
      return [];
    }
  })();
  const out: LayoutTestImage[] = [];
  for (const label of labels) {
    const masks = new Map<string, { stem: string; path: string }>();
    if (label !== 'good') {
      for (const gt of gtDirs) {
        const labelDir = join(gt, label);
        if (!existsSync(labelDir)) continue;
        for (const name of listImageNames(labelDir)) {
          const stem = imageStem(name);
          const key = maskedStem(stem);
          if (preferredMask(stem, masks.get(key)?.stem)) masks.set(key, { stem, path: join(labelDir, name) });
        }
        break; // the first ground-truth folder that has this defect's masks
      }
    }
    for (const name of listImageNames(join(testDir, label))) {
      const stem = imageStem(name);
      out.push({ rel: `test/${label}/${name}`, label, stem, mask: label === 'good' ? null : (masks.get(stem)?.path ?? null) });
    }
  }
  return out;
}
