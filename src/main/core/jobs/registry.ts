/**
 * The job kinds the product offers. Tests add their own kinds (a job that throws, exits, runs
 * out of memory, sleeps with progress) through the runner's and the worker's options, never here.
 */
import type { JobKindRegistry } from './kinds';
import { featuresKind } from './kinds/features';
import { patchcoreKind } from './kinds/patchcore';

export const PRODUCT_KINDS: JobKindRegistry = {
  [featuresKind.name]: featuresKind,
  [patchcoreKind.name]: patchcoreKind,
};
