/** Numeric limits shared by the contract's schemas and the UI's forms (no zod here: the renderer imports it). */
export const DEMO_LIMITS = { maxTrain: 5000, maxTest: 2000, minSize: 64, maxSize: 1024 } as const;

/** The frozen-feature cache's default size cap: 20 GB (a MIAD scenario's WRN50-2 layer2+3 features at 224² are ~12 GB fp16). */
export const DEFAULT_FEATURE_CACHE_CAP_BYTES = 20e9;
