import type { VerbSpec } from '../verb';

/** Every CLI verb, in the order --help lists them. */
export const VERBS: VerbSpec[] = [];
