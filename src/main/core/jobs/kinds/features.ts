/**
 * The `features` job kind: extract a backbone's feature maps (a ResNet, or UniAD's EfficientNet-B4)
 * for every image of one split of one scenario of a dataset, and write them as `.npy` files in the
 * run folder. This is the frozen-feature step PatchCore, the RD teacher, FastFlow and UniAD share
 * (DESIGN section 6), run as a real job: in its own process, with progress, cancel and checkpoints.
 *
 * This file is the main-process half (schema, prepare); the tensor code is features-job.ts,
 * loaded only inside the job process.
 */
import { z } from 'zod';
import { LabError } from '../../../../shared/errors';
import { defineKind } from '../kinds';

// layer5 exists for the EfficientNets only (UniAD's fifth level, stride 32); ResNets stop at layer4.
const EFFICIENTNETS: readonly string[] = ['efficientnet_b4', 'tf_efficientnet_b4'];
const LAYERS = ['layer1', 'layer2', 'layer3', 'layer4', 'layer5'] as const;

export const featuresConfigSchema = z
  .object({
    datasetId: z.number().int().positive(),
    scenario: z.string().min(1).max(200),
    split: z.enum(['train', 'test']).default('train'),
    arch: z.enum(['resnet18', 'wide_resnet50_2', 'efficientnet_b4', 'tf_efficientnet_b4']).default('wide_resnet50_2'),
    layers: z.array(z.enum(LAYERS)).min(1).max(5).default(['layer2', 'layer3']),
    /** Images are resized to inputSize × inputSize (224 for PatchCore, 256 for RD and FastFlow). */
    inputSize: z.number().int().min(32).max(1024).default(224),
    batchSize: z.number().int().min(1).max(256).default(8),
    /** A `.safetensors` file with timm/torchvision names (lukemelas' for tf_efficientnet_b4); random weights (seeded) when absent. */
    weightsFile: z.string().min(1).max(4096).optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
    /** Only the first N images (in the Library's order): for quick looks and tests. */
    limit: z.number().int().positive().optional(),
    /** Checkpoint after every N batches. */
    checkpointEvery: z.number().int().positive().default(20),
  })
  .strict()
  .refine((c) => EFFICIENTNETS.includes(c.arch) || !c.layers.includes('layer5'), { message: 'layer5 exists for efficientnet_b4 and tf_efficientnet_b4 only', path: ['layers'] });

export type FeaturesConfig = z.output<typeof featuresConfigSchema>;

/** What the main process resolves for the job process: absolute image paths, in output order. */
export interface FeaturesInput {
  images: { relPath: string; path: string }[];
}

export const featuresKind = defineKind<FeaturesConfig>({
  name: 'features',
  summary: "extract a backbone's feature maps for a scenario's images (frozen-feature cache)",
  schema: featuresConfigSchema as unknown as z.ZodType<FeaturesConfig>,
  tensors: true,
  prepare(config, { store }) {
    const dataset = store.getDataset(config.datasetId);
    const { samples } = store.listSamples({
      datasetId: config.datasetId,
      scenario: config.scenario,
      split: config.split,
      offset: 0,
      limit: config.limit ?? 10_000_000,
    });
    if (samples.length === 0) {
      throw new LabError(`dataset ${dataset.name} has no ${config.split} images for scenario ${config.scenario}`, 'ValidationError');
    }
    const input: FeaturesInput = { images: samples.map((s) => ({ relPath: s.relPath, path: s.path })) };
    return {
      method: 'features',
      scenarios: [config.scenario],
      datasetId: dataset.id,
      datasetRoot: dataset.root,
      weights: config.weightsFile ?? 'random',
      randomInit: config.weightsFile === undefined,
      input,
    };
  },
  load: async () => (await import('./features-job')).runFeatures,
});
