import type { VerbSpec } from '../verb';
import { benchVerb } from './bench';
import { cacheVerb } from './cache';
import { checkTrainVerb } from './check-train';
import { compareVerb } from './compare';
import { demoVerb } from './demo';
import { evaluateVerb } from './evaluate';
import { exportDatasetVerb } from './export-dataset';
import { importVerb } from './import';
import { serveVerb } from './serve';
import { trainVerb } from './train';
import { weightsVerb } from './weights';
import { workerVerb } from './worker';

/** Every CLI verb, in the order --help lists them. */
export const VERBS: VerbSpec[] = [serveVerb, demoVerb, importVerb, weightsVerb, trainVerb, evaluateVerb, compareVerb, benchVerb, exportDatasetVerb, checkTrainVerb, cacheVerb, workerVerb];
