/**
 * Where a job run keeps the files of one of its scenarios (maps.amap, scores.json, labels.json,
 * samples): the run folder itself for a run of one scenario, `<runDir>/scenarios/<scenario>/` for
 * a unified run over several (UniAD), whose test images of different scenarios share relative
 * paths (`test/good/000.png`). Written by the method harness, read by the run page and the
 * compare view.
 */
import { join } from 'node:path';

export function runScenarioDir(runDir: string, scenarios: readonly string[], scenario: string): string {
  return scenarios.length > 1 ? join(runDir, 'scenarios', scenario) : runDir;
}
