import type { VerbSpec } from '../verb';
import { demoVerb } from './demo';
import { serveVerb } from './serve';
import { weightsVerb } from './weights';

/** Every CLI verb, in the order --help lists them. */
export const VERBS: VerbSpec[] = [serveVerb, demoVerb, weightsVerb];
