/**
 * Folder names to taxonomy names. Copies of MIAD seen in the wild spell scenario and defect folders
 * differently from Table A.1 (`Weld Pit`, `weld-pits`, `pit`, `missing_nut`, `bolt_missing`…), so
 * names are compared as sets of normalised tokens (case, spaces, `_`/`-`, plurals and a few
 * synonyms folded) and a folder maps only when exactly one of its scenario's types matches: an
 * ambiguous name (`missing` under nut_and_bolt) is left for the user, never guessed.
 */
import { SCENARIOS, SCENARIO_INFO, type Scenario } from '../../../../shared/taxonomy';

/** MVTec AD's 15 categories: their defect folders are kept as they are (not in Table A.1). */
export const MVTEC_CATEGORIES = [
  'bottle', 'cable', 'capsule', 'carpet', 'grid', 'hazelnut', 'leather', 'metal_nut',
  'pill', 'screw', 'tile', 'toothbrush', 'transistor', 'wood', 'zipper',
] as const;

/** Lower case, every run of spaces, dashes, dots and underscores to one `_`. */
export function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/[\s\-_.]+/g, '_').replace(/^_+|_+$/g, '');
}

/** Word-level synonyms: every key is read as its value. */
const SYNONYMS: Record<string, string> = {
  missing: 'miss', missed: 'miss', lost: 'miss', absent: 'miss', absence: 'miss', lack: 'miss', lacking: 'miss',
  loose: 'looseness', loosen: 'looseness', loosened: 'looseness', loosening: 'looseness', slack: 'looseness',
  cracked: 'crack', cracking: 'crack', fracture: 'crack',
  break: 'broken', breakage: 'broken', broke: 'broken',
  bead: 'beading', beads: 'beading',
  object: 'body', matter: 'body', objects: 'body',
  welding: 'weld', welded: 'weld',
};

function singular(token: string): string {
  // `looseness`, `miss`: a double s is not a plural.
  if (token.length > 3 && token.endsWith('es') && /(ss|sh|ch|x)es$/.test(token)) return token.slice(0, -2);
  if (token.length > 3 && token.endsWith('s') && !token.endsWith('ss')) return token.slice(0, -1);
  return token;
}

/** The normalised token set of a folder name, e.g. `Missing-Nuts` → {miss, nut}. */
export function nameTokens(name: string): Set<string> {
  const tokens = normaliseName(name).split('_').filter((t) => t.length > 0);
  return new Set(tokens.map((t) => SYNONYMS[t] ?? SYNONYMS[singular(t)] ?? singular(t)));
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/**
 * The spellings a type answers to, as token sets: its own name, the name without a word its
 * scenario implies (`weld pit` → `pit`), and a few short forms (`foreign`, `pit`).
 */
function typeForms(scenario: Scenario, type: string): Set<string>[] {
  const own = nameTokens(type);
  const forms = [own];
  const implied = new Set(['weld', 'body']);
  const reduced = new Set([...own].filter((t) => !implied.has(t)));
  if (reduced.size > 0 && reduced.size < own.size) forms.push(reduced);
  if (scenario === 'nut_and_bolt' && type !== 'looseness') {
    // `bolt` / `nut` alone name the missing part in this scenario's folders of the wild.
    forms.push(new Set([type.startsWith('bolt') ? 'bolt' : 'nut']));
  }
  return forms;
}

export type DefectMatch = { type: string; how: 'exact' | 'alias' } | null;

/**
 * Maps a defect folder of a MIAD scenario to its Table A.1 type; null when no type or more than
 * one type matches.
 */
export function matchDefectFolder(scenario: Scenario, folder: string): DefectMatch {
  const types = SCENARIO_INFO[scenario].defects;
  if (types.includes(folder)) return { type: folder, how: 'exact' };
  const tokens = nameTokens(folder);
  if (tokens.size === 0) return null;
  const hits = types.filter((type) => typeForms(scenario, type).some((form) => sameSet(form, tokens)));
  if (hits.length === 1) return { type: hits[0]!, how: 'alias' };
  return null;
}

export type ScenarioFamily = 'miad' | 'mvtec' | 'other';

/** The canonical scenario name of a folder: a MIAD scenario, an MVTec AD category, or the folder name. */
export function matchScenarioFolder(folder: string): { scenario: string; family: ScenarioFamily } {
  const norm = normaliseName(folder);
  const miad = SCENARIOS.find((s) => s === norm || s.replace(/_/g, '') === norm.replace(/_/g, ''));
  if (miad) return { scenario: miad, family: 'miad' };
  const mvtec = MVTEC_CATEGORIES.find((c) => c === norm || c.replace(/_/g, '') === norm.replace(/_/g, ''));
  if (mvtec) return { scenario: mvtec, family: 'mvtec' };
  return { scenario: folder, family: 'other' };
}

/** The label of the normal class: MVTec's `good`, and spellings seen in copies. */
export function isGoodFolder(folder: string): boolean {
  return ['good', 'normal', 'ok', 'nominal', 'defect_free'].includes(normaliseName(folder));
}
