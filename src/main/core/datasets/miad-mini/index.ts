/** MIAD-mini, the deterministic procedural demo/test dataset: public entry points. */
export {
  generateMiadMini,
  inspectOutDir,
  planMiadMini,
  resolveMiadMiniOptions,
  MIAD_MINI_MANIFEST,
  MIAD_MINI_VERSION,
  type MiadMiniFile,
  type MiadMiniOptions,
  type MiadMiniReport,
  type MiadMiniScenarioReport,
  type ResolvedMiadMiniOptions,
} from './generate';
export { renderSample, renderNormalTwin, diffMask, sampleSeed, type RenderedSample, type SampleKey } from './render';
export { renderContactSheet, type ContactSheetOptions } from './contact-sheet';
export type { Knobs } from './common';
