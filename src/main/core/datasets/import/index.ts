/** The dataset importer's public entry points (DESIGN sections 3, 4 and 9). */
export { importFolder, rescanDataset, scanFolder, type ImportDeps } from './importer';
export { matchDefectFolder, matchScenarioFolder, normaliseName, MVTEC_CATEGORIES } from './aliases';
export { checkImageBytes, createInThreadReader, createWorkerReader, type FactReader } from './file-facts';
export { walkDataset, nodeWalkFs, type WalkFs } from './walk';
