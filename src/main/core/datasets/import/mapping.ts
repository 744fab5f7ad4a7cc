/**
 * Where each defect folder goes. MIAD scenarios' folders map to Table A.1 types (exact name, an
 * alias, or the user's choice, which wins); MVTec AD and other categories keep their folder names
 * because no taxonomy constrains them. A folder nobody could map stays `target: null` and blocks
 * the import until the user maps it or says `skip`.
 */
import { SKIP, mappingKey, type DefectFolder, type FolderMapping } from '../../../../shared/calls/import';
import { LabError } from '../../../../shared/errors';
import { SCENARIO_INFO, isDefectAllowed, isScenario } from '../../../../shared/taxonomy';
import { matchDefectFolder } from './aliases';
import type { DatasetWalk } from './walk';

/** The defect folders of a walk (test/<defect> and ground_truth/<defect>), each with its target. */
export function defectFolders(walk: DatasetWalk, mapping: FolderMapping = {}): DefectFolder[] {
  const byKey = new Map<string, DefectFolder>();
  const get = (scenario: string, folder: string): DefectFolder => {
    const key = mappingKey(scenario, folder);
    let f = byKey.get(key);
    if (!f) {
      f = { scenario, folder, images: 0, masks: 0, target: null, how: null, allowed: isScenario(scenario) ? [...SCENARIO_INFO[scenario].defects] : null };
      byKey.set(key, f);
    }
    return f;
  };
  for (const img of walk.images) if (!img.good) get(img.scenario, img.folder).images++;
  for (const m of walk.masks) get(m.scenario, m.folder).masks++;
  for (const f of byKey.values()) {
    const user = mapping[mappingKey(f.scenario, f.folder)];
    if (user !== undefined) {
      f.target = user;
      f.how = 'user';
    } else if (isScenario(f.scenario)) {
      const match = matchDefectFolder(f.scenario, f.folder);
      if (match) {
        f.target = match.type;
        f.how = match.how;
      }
    } else {
      f.target = f.folder;
      f.how = 'kept';
    }
  }
  return [...byKey.values()].sort((a, b) => (mappingKey(a.scenario, a.folder) < mappingKey(b.scenario, b.folder) ? -1 : 1));
}

/**
 * Checks a user mapping against the walk: every key must name a defect folder that exists, and
 * every target must be `skip` or a type Table A.1 allows for that scenario (any name for non-MIAD
 * scenarios). Throws a ValidationError listing every bad entry.
 */
export function validateMapping(walk: DatasetWalk, mapping: FolderMapping): void {
  const folders = new Map(defectFolders(walk).map((f) => [mappingKey(f.scenario, f.folder), f]));
  const errors: string[] = [];
  for (const [key, target] of Object.entries(mapping)) {
    const folder = folders.get(key);
    if (!folder) {
      errors.push(`no defect folder ${JSON.stringify(key)} in this dataset (folders: ${[...folders.keys()].join(', ') || 'none'})`);
      continue;
    }
    if (target === SKIP) continue;
    if (isScenario(folder.scenario)) {
      if (!isDefectAllowed(folder.scenario, target)) {
        errors.push(`${JSON.stringify(key)} → ${JSON.stringify(target)}: Table A.1 allows only ${SCENARIO_INFO[folder.scenario].defects.join(', ')} (or skip) for ${folder.scenario}`);
      }
    } else if (target === 'good' || !/^[^/\\\0]+$/.test(target)) {
      errors.push(`${JSON.stringify(key)} → ${JSON.stringify(target)}: not a usable label`);
    }
  }
  if (errors.length > 0) throw new LabError(`invalid folder mapping: ${errors.join('; ')}`, 'ValidationError');
}

/** A ValidationError naming each unmapped folder, with how to map it. */
export function unmappedError(unmapped: readonly DefectFolder[]): LabError {
  const list = unmapped.map((f) => `${mappingKey(f.scenario, f.folder)} (${f.images} images; allowed: ${(f.allowed ?? []).join(', ')}, or skip)`);
  return new LabError(
    `${unmapped.length} defect folder${unmapped.length === 1 ? '' : 's'} could not be mapped to Table A.1 and must be mapped by hand first: ${list.join('; ')}`,
    'ValidationError',
  );
}
