/**
 * Handlers of the `engine:*` calls. Probing loads tfjs (and Dawn for WebGPU), so it happens on
 * first request only, through a dynamic import, and its answer is kept: the host process stays
 * light until someone asks, and jobs do their own choosing in their own process.
 *
 * The backend setting lives in the app's settings (workspace/app-settings.ts); forcing a backend
 * is refused with the probe's reason when this machine cannot run it. The feature-cache calls
 * read the open workspace's cache folder directly: the job process that writes it keeps its
 * entries and counters on disk in a form any process can read (engine/feature-cache.ts).
 */
import type { BackendStatusInfo } from '../../../shared/backends';
import { LabError } from '../../../shared/errors';
import { FeatureCache, readStats } from '../engine/feature-cache';
import { WEIGHTS_CATALOG, WeightsManager } from '../engine/weights';
import { BUILT_ARCHS, isBuiltArch } from '../engine/backbones/index';
import type { AppSettings } from '../workspace/app-settings';
import type { DomainHandlers, HandlerContext } from './types';

type Probe = { backends: BackendStatusInfo[]; best: string | null; probedAt: string };

let probe: Promise<Probe> | null = null;

async function probeBackends(): Promise<Probe> {
  const { listBackends } = await import('../engine/backends');
  const backends = await listBackends();
  return { backends, best: backends.find((b) => b.available)?.name ?? null, probedAt: new Date().toISOString() };
}

function backends(refresh = false): Promise<Probe> {
  if (!probe || refresh) {
    probe = probeBackends();
    // A failed probe is not cached: the next request tries again.
    probe.catch(() => (probe = null));
  }
  return probe;
}

/** Our name of the best backend this machine offers (what a job without a forced backend will take). */
export async function bestBackend(): Promise<string | null> {
  return (await backends()).best;
}

export interface EngineHandlerDeps {
  settings: AppSettings;
}

export function engineHandlers(ctx: HandlerContext, deps: EngineHandlerDeps): DomainHandlers<'engine'> {
  const cacheDir = () => FeatureCache.workspaceDir(ctx.requireLab().dir);
  /** The open workspace's weights cache (`<workspace>/weights`). */
  const weights = () => new WeightsManager({ workspaceDir: ctx.requireLab().dir });
  return {
    'engine:backends': async ({ refresh }) => backends(refresh ?? false),
    'engine:backendSetting': async () => ({ backend: (await deps.settings.get()).backend }),
    'engine:setBackend': async ({ backend }) => {
      if (backend !== 'auto') {
        // A fresh probe: a package installed or a driver fixed since the last one counts.
        const status = (await backends(true)).backends.find((b) => b.name === backend);
        if (!status?.available) throw new LabError(`backend ${backend} cannot be forced: it is unavailable here: ${status?.reason ?? 'not probed'}`, 'ConflictError');
      }
      await deps.settings.setBackend(backend);
      return { backend };
    },
    'engine:cache': async () => {
      const { dir, entries, bytes, capBytes, hits, misses } = await readStats(cacheDir());
      return { dir, entries, bytes, capBytes, hits, misses };
    },
    'engine:setCacheCap': async ({ bytes }) => {
      const dir = cacheDir();
      await (await FeatureCache.open(dir)).setCap(bytes);
      const s = await readStats(dir);
      return { dir: s.dir, entries: s.entries, bytes: s.bytes, capBytes: s.capBytes, hits: s.hits, misses: s.misses };
    },
    'engine:weightsCatalog': async () => ({ entries: WEIGHTS_CATALOG.map((e) => ({ ...e, usedBy: [...e.usedBy] })), archs: [...BUILT_ARCHS] }),
    'engine:weights': async () => weights().list(),
    'engine:fetchWeights': async ({ id }) => weights().fetch(id, { onProgress: (p) => ctx.emit('engine:weightsProgress', p) }),
    'engine:importWeights': async ({ id, file }) => weights().import(id, file),
    'engine:verifyWeights': async ({ id }) => weights().verify(id),
    'engine:randomWeights': async ({ arch, seed }) => {
      if (!isBuiltArch(arch)) throw new LabError(`architecture ${JSON.stringify(arch)} is not built here: choose one of ${BUILT_ARCHS.join(', ')}`, 'ValidationError');
      return weights().writeRandom(arch, seed);
    },
    'engine:clearCache': async () => (await FeatureCache.open(cacheDir())).clear(),
  };
}
