/** The registry of MIAD-mini scenes: one SceneSpec per MIAD scenario. */
import type { Scenario } from '../../../../../shared/taxonomy';
import type { SceneSpec } from '../common';
import { catenaryDropper } from './catenary-dropper';
import { electricalInsulator } from './electrical-insulator';
import { metalWelding } from './metal-welding';
import { nutAndBolt } from './nut-and-bolt';
import { photovoltaicModule } from './photovoltaic-module';
import { windTurbine } from './wind-turbine';
import { witnessMark } from './witness-mark';

export const SCENES: Record<Scenario, SceneSpec> = {
  catenary_dropper: catenaryDropper,
  electrical_insulator: electricalInsulator,
  metal_welding: metalWelding,
  nut_and_bolt: nutAndBolt,
  photovoltaic_module: photovoltaicModule,
  wind_turbine: windTurbine,
  witness_mark: witnessMark,
};
