/**
 * The `demo` job kind: generates MIAD-mini for a new demo workspace in a job process (issue 20
 * item 5), so the generator's drawing and PNG encoding never hold the main process (the server's
 * and the app's event loop). Unlike the runner's kinds it has no run row (there is no workspace
 * yet): workspaces:createDemo starts it through jobs/standalone.ts, which also cancels it by
 * ending the process. Its result carries the samples to register.
 */
import { z } from 'zod';
import { demoOptionsSchema } from '../../../../shared/contract';
import { LabError } from '../../../../shared/errors';
import { defineKind } from '../kinds';

export const demoJobConfigSchema = z.object({ outDir: z.string().min(1), options: demoOptionsSchema }).strict();

export const demoKind = defineKind({
  name: 'demo',
  summary: 'generate the MIAD-mini dataset of a new demo workspace',
  schema: demoJobConfigSchema,
  tensors: false,
  prepare: () => {
    throw new LabError('the demo job has no run: workspaces:createDemo starts it', 'ValidationError');
  },
  load: async () => {
    const { generateDemoDataset } = await import('../../datasets/demo-dataset');
    return async (config, _input, ctx) => {
      const made = await generateDemoDataset(config.outDir, config.options, (p) => {
        ctx.throwIfCancelled();
        ctx.progress({ phase: p.phase, step: p.done, total: p.total, ...(p.scenario ? { message: p.scenario } : {}) });
      });
      return { summary: { samples: made.samples, report: made.summary ?? null } };
    };
  },
});
