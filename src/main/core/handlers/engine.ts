/**
 * Handlers of the `engine:*` calls. Probing loads tfjs (and Dawn for WebGPU), so it happens on
 * first request only, through a dynamic import, and its answer is kept: the host process stays
 * light until someone asks, and jobs do their own choosing in their own process.
 */
import type { BackendStatusInfo } from '../../../shared/backends';
import type { DomainHandlers, HandlerContext } from './types';

let probe: Promise<{ backends: BackendStatusInfo[]; best: string | null; probedAt: string }> | null = null;

async function probeBackends(): Promise<{ backends: BackendStatusInfo[]; best: string | null; probedAt: string }> {
  const { listBackends } = await import('../engine/backends');
  const backends = await listBackends();
  return { backends, best: backends.find((b) => b.available)?.name ?? null, probedAt: new Date().toISOString() };
}

export function engineHandlers(_ctx: HandlerContext): DomainHandlers<'engine'> {
  return {
    'engine:backends': async ({ refresh }) => {
      if (!probe || refresh) {
        probe = probeBackends();
        // A failed probe is not cached: the next request tries again.
        probe.catch(() => (probe = null));
      }
      return probe;
    },
  };
}
