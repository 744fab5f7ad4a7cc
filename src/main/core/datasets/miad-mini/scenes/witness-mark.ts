/**
 * Witness mark: a nut and bolt with a painted line running from the plate across the washer, the
 * nut and the bolt tip (all three factors hurt this scenario, so the plate edge and the outdoors
 * behind it appear with the background knob). Defect "looseness": the nut has turned, so its
 * segment of the line no longer lines up with the plate's and the bolt's.
 */
import { jitterColour, type Rgb, type SceneSpec } from '../common';
import { buildBoltedJoint, type JointState, type Stripe } from './bolted-joint';

const PAINTS: Rgb[] = [
  [0.85, 0.12, 0.08], // red
  [0.95, 0.78, 0.1], // yellow
  [0.93, 0.93, 0.9], // white
  [0.95, 0.45, 0.08], // orange
];

export const witnessMark: SceneSpec = {
  scenario: 'witness_mark',
  build(rng, knobs, defect) {
    const joint = buildBoltedJoint(rng, knobs, { plateEdge: rng.chance(0.2 + 0.6 * knobs.background) });
    const stripe: Stripe = {
      angle: rng.range(0, Math.PI * 2),
      width: rng.range(3, 4.5),
      length: rng.range(70, 95),
      colour: jitterColour(rng, rng.pick(PAINTS), 0.06),
    };
    const normal: JointState = { nutTurn: 0, nutLift: 0, nut: true, bolt: true };
    const turned: JointState = defect === 'looseness' ? { ...normal, nutTurn: (rng.chance(0.5) ? 1 : -1) * rng.range(0.4, 0.85) } : normal;
    return (canvas, defective) => joint.draw(canvas, defective ? turned : normal, stripe);
  },
};
