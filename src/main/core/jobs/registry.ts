/**
 * The job kinds the product offers: the `features` job, the training-set check (`train-check`) and one kind per method of the method
 * registry (methods/registry.ts), all made by the one generic method job (harness/method-job.ts).
 * Tests add their own kinds (a job that throws, exits, runs out of memory, sleeps with progress)
 * through the runner's and the worker's options, never here.
 */
import type { JobKindRegistry } from './kinds';
import { featuresKind } from './kinds/features';
import { trainCheckKind } from '../checks/train-check-kind';
import { METHODS } from '../methods/registry';
import { methodJobKind } from '../methods/harness/method-job';

export const PRODUCT_KINDS: JobKindRegistry = {
  [featuresKind.name]: featuresKind,
  [trainCheckKind.name]: trainCheckKind,
  ...Object.fromEntries(METHODS.map((m) => [m.name, methodJobKind(m)])),
};
