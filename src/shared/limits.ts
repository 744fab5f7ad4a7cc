/** Numeric limits shared by the contract's schemas and the UI's forms (no zod here: the renderer imports it). */
export const DEMO_LIMITS = { maxTrain: 5000, maxTest: 2000, minSize: 64, maxSize: 1024 } as const;
