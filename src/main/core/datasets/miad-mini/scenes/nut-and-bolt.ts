/**
 * Nut and bolt: a hex nut on a threaded bolt through a washer on a painted steel plate (viewpoint is
 * this scenario's factor). Defects: "looseness" (the nut turned and backed off, thread showing under
 * it), "bolt_miss" (the whole fastener gone: an empty hole), "nut_miss" (the bare threaded bolt).
 */
import type { SceneSpec } from '../common';
import { buildBoltedJoint, type JointState } from './bolted-joint';

export const nutAndBolt: SceneSpec = {
  scenario: 'nut_and_bolt',
  build(rng, knobs, defect) {
    const joint = buildBoltedJoint(rng, knobs, { plateEdge: rng.chance(0.3 * knobs.background) });
    const normal: JointState = { nutTurn: 0, nutLift: 0, nut: true, bolt: true };
    let broken: JointState = normal;
    if (defect === 'looseness') {
      broken = { ...normal, nutTurn: (rng.chance(0.5) ? 1 : -1) * rng.range(0.22, 0.5), nutLift: rng.range(5, 10) };
    } else if (defect === 'bolt_miss') {
      broken = { ...normal, nut: false, bolt: false };
    } else if (defect === 'nut_miss') {
      broken = { ...normal, nut: false };
    }
    return (canvas, defective) => joint.draw(canvas, defective ? broken : normal, null);
  },
};
