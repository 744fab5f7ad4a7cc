import type { VerbSpec } from '../verb';
import { serveVerb } from './serve';

/** Every CLI verb, in the order --help lists them. */
export const VERBS: VerbSpec[] = [serveVerb];
