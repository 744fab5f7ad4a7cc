/**
 * A contact sheet of MIAD-mini: one row per scenario, a normal sample then one sample of each defect
 * type with its mask outline in red. For eyeballing the drawings (tests write it as an artifact)
 * and for documentation.
 */
import { SCENARIOS, SCENARIO_INFO, type Scenario } from '../../../../shared/taxonomy';
import type { Knobs } from './common';
import { renderSample } from './render';

export interface ContactSheetOptions {
  seed?: number;
  size?: number;
  scenarios?: readonly Scenario[];
  knobs?: Knobs;
  /** Which index of each folder to show. */
  index?: number;
  /** Samples per cell kind (columns repeat normal/defects this many times). */
  repeats?: number;
}

/** Returns an RGB image, shape [height, width, 3]. */
export function renderContactSheet(options: ContactSheetOptions = {}): { width: number; height: number; rgb: Uint8Array } {
  const size = options.size ?? 128;
  const seed = options.seed ?? 0;
  const scenarios = options.scenarios ?? SCENARIOS;
  const knobs = options.knobs ?? { viewpoint: 0.5, background: 0.5, surface: 0.5 };
  const repeats = options.repeats ?? 1;
  const maxDefects = Math.max(...scenarios.map((s) => SCENARIO_INFO[s].defects.length));
  const cols = (1 + maxDefects) * repeats;
  const gap = 4;
  const width = cols * size + (cols + 1) * gap;
  const height = scenarios.length * size + (scenarios.length + 1) * gap;
  const rgb = new Uint8Array(width * height * 3).fill(40);
  scenarios.forEach((scenario, row) => {
    const folders = ['test/good', ...SCENARIO_INFO[scenario].defects.map((d) => `test/${d}`)];
    for (let r = 0; r < repeats; r++) {
      folders.forEach((folder, col) => {
        const sample = renderSample({ seed, scenario, folder, index: (options.index ?? 0) + r }, size, knobs);
        const x0 = gap + (col + r * (1 + maxDefects)) * (size + gap);
        const y0 = gap + row * (size + gap);
        for (let y = 0; y < size; y++) {
          for (let x = 0; x < size; x++) {
            const s = (y * size + x) * 3;
            const d = ((y0 + y) * width + x0 + x) * 3;
            let edge = false;
            const m = sample.mask;
            if (m && m[y * size + x]) {
              edge = x === 0 || y === 0 || x === size - 1 || y === size - 1 || !m[y * size + x - 1] || !m[y * size + x + 1] || !m[(y - 1) * size + x] || !m[(y + 1) * size + x];
            }
            if (edge) {
              rgb[d] = 255; rgb[d + 1] = 0; rgb[d + 2] = 0;
            } else {
              rgb[d] = sample.rgb[s]!; rgb[d + 1] = sample.rgb[s + 1]!; rgb[d + 2] = sample.rgb[s + 2]!;
            }
          }
        }
      });
    }
  });
  return { width, height, rgb };
}
