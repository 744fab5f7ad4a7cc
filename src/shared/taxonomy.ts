/**
 * The MIAD taxonomy: the 7 scenarios and the 14 defect types of the paper's Table A.1,
 * plus the uncontrolled factors that section A.3 names per scenario.
 * Pure data; imports nothing.
 */

export const SCENARIOS = [
  'catenary_dropper',
  'electrical_insulator',
  'metal_welding',
  'nut_and_bolt',
  'photovoltaic_module',
  'wind_turbine',
  'witness_mark',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The three uncontrolled factors of MIAD (appendix A.3). */
export const FACTORS = ['viewpoint', 'background', 'surface'] as const;
export type Factor = (typeof FACTORS)[number];

/** A defect type id is `<scenario>/<type>`; the type alone is not unique (crack, broken, miss, looseness). */
export interface DefectType {
  /** Unique id, e.g. `metal_welding/weld_pit`. */
  id: string;
  scenario: Scenario;
  /** Folder-style name, e.g. `weld_pit`. */
  name: string;
  /** Human label as Table A.1 writes it, e.g. `weld pit`. */
  label: string;
}

export interface ScenarioInfo {
  id: Scenario;
  label: string;
  /** Defect type names (folder style) in Table A.1 order. */
  defects: readonly string[];
  /** Which uncontrolled factors hurt this scenario, per appendix A.3. */
  factors: readonly Factor[];
}

/** Table A.1, with the factors of A.3. */
export const SCENARIO_INFO: Readonly<Record<Scenario, ScenarioInfo>> = {
  electrical_insulator: {
    id: 'electrical_insulator',
    label: 'Electrical Insulator',
    defects: ['crack'],
    factors: ['viewpoint'],
  },
  metal_welding: {
    id: 'metal_welding',
    label: 'Metal Welding',
    defects: ['weld_beading', 'weld_pit'],
    factors: ['surface'],
  },
  photovoltaic_module: {
    id: 'photovoltaic_module',
    label: 'Photovoltaic Module',
    defects: ['broken', 'miss', 'foreign_body'],
    factors: ['viewpoint'],
  },
  wind_turbine: {
    id: 'wind_turbine',
    label: 'Wind Turbine',
    defects: ['crack'],
    factors: [],
  },
  catenary_dropper: {
    id: 'catenary_dropper',
    label: 'Catenary Dropper',
    defects: ['looseness', 'broken', 'miss'],
    factors: ['background'],
  },
  nut_and_bolt: {
    id: 'nut_and_bolt',
    label: 'Nut and Bolt',
    defects: ['looseness', 'bolt_miss', 'nut_miss'],
    factors: ['viewpoint'],
  },
  witness_mark: {
    id: 'witness_mark',
    label: 'Witness Mark',
    defects: ['looseness'],
    factors: ['viewpoint', 'background', 'surface'],
  },
};

export function isScenario(value: string): value is Scenario {
  return (SCENARIOS as readonly string[]).includes(value);
}

export function defectTypeId(scenario: Scenario, name: string): string {
  return `${scenario}/${name}`;
}

/** All 14 defect types of Table A.1, grouped by scenario in SCENARIOS order. */
export const DEFECT_TYPES: readonly DefectType[] = SCENARIOS.flatMap((scenario) =>
  SCENARIO_INFO[scenario].defects.map((name) => ({
    id: defectTypeId(scenario, name),
    scenario,
    name,
    label: name.replace(/_/g, ' '),
  })),
);

/** True when Table A.1 allows defect type `name` for `scenario`. */
export function isDefectAllowed(scenario: Scenario, name: string): boolean {
  return SCENARIO_INFO[scenario].defects.includes(name);
}

/** Scenarios in Table A.1 order (the appendix's order, which SCENARIO_INFO keeps). */
export const TABLE_A1_SCENARIOS = Object.keys(SCENARIO_INFO).filter(isScenario);

/** Orders scenario names as Table A.1 does; names outside MIAD follow, alphabetically. */
export function orderScenarios(names: Iterable<string>): string[] {
  const set = new Set(names);
  const known = TABLE_A1_SCENARIOS.filter((s) => set.has(s));
  const other = [...set].filter((s) => !isScenario(s)).sort();
  return [...known, ...other];
}
