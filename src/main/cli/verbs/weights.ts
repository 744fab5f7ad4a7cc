/**
 * `miad-lab weights list|fetch|import|verify|random --workspace W ...`: the pretrained-weights
 * cache of a workspace from the command line (DESIGN section 6), for offline machines above all:
 * fetch where there is a network, import the file where there is not. Through the app's calls
 * (`engine:weights`, `engine:fetchWeights`, `engine:importWeights`, `engine:verifyWeights`,
 * `engine:randomWeights`); an empty --workspace folder becomes a workspace, as `import` makes one.
 */
import { join, resolve } from 'node:path';
import type { WeightsCatalog, WeightsStatus } from '../../../shared/calls/engine';
import { withHost, type CliHost } from '../host';
import { UsageError, intOption, requiredString, stringOption, type VerbSpec } from '../verb';

const SUBCOMMANDS = ['list', 'fetch', 'import', 'verify', 'random'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

/** The --workspace folder opened as a workspace (created when empty), or a usage error. */
async function openWorkspace(host: CliHost, options: Record<string, unknown>): Promise<string> {
  const { dir, state } = await host.call('workspaces:inspect', { dir: resolve(requiredString(options as never, 'workspace')) });
  if (state === 'missing' || state === 'file') throw new UsageError(`--workspace ${dir} is not a folder`);
  if (state === 'other') throw new UsageError(`--workspace ${dir} is not empty and holds no MIAD Lab workspace (no lab.sqlite)`);
  return (await host.call('workspaces:open', { dir, ...(state === 'empty' ? { create: true } : {}) })).dir;
}

function idOption(options: Record<string, unknown>, catalog: WeightsCatalog): string {
  const id = requiredString(options as never, 'id');
  if (!catalog.entries.some((e) => e.id === id)) {
    throw new UsageError(`--id ${JSON.stringify(id)} is not in the catalogue; known: ${catalog.entries.map((e) => e.id).join(', ')}`);
  }
  return id;
}

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

function describe(s: WeightsStatus): string {
  const state = s.present ? `cached (${s.local ? `${s.local.source}, ${mb(s.local.bytes)}` : 'no record'})` : s.partialBytes !== null ? `partial download: ${mb(s.partialBytes)}` : 'not cached';
  return `${s.id.padEnd(30)}${s.arch.padEnd(20)}${(s.bytes !== null ? mb(s.bytes) : s.sizeHint).padEnd(22)}${state}`;
}

export const weightsVerb: VerbSpec = {
  name: 'weights',
  summary: 'list, download, import or verify pretrained backbone weights',
  details: [
    'Sub-commands:',
    '  list                       the catalogue and what the workspace cache holds',
    '  fetch --id ID              download from the Hugging Face hub (resumes an interrupted download);',
    '                             an id published only as a .pth is converted and imported instead (fetch says how)',
    '  import --id ID FILE        copy a local .safetensors into the cache after checking it fits ID',
    '  verify --id ID             re-check the cached file (sha256 and every tensor name and shape)',
    '  random --arch A [--seed N] write seeded random weights (torchvision init) for tests and demos',
    '',
    'Offline? Download the file on another machine, then: miad-lab weights import --workspace W --id ID FILE',
  ].join('\n'),
  options: {
    workspace: { type: 'string', value: 'DIR', description: 'workspace folder (the cache is DIR/weights)', required: true },
    id: { type: 'string', value: 'ID', description: 'weights id (fetch, import, verify)' },
    arch: { type: 'string', value: 'ARCH', description: 'architecture for random (the list: miad-lab weights --help)' },
    seed: { type: 'string', value: 'N', description: 'seed for random (default 0)' },
  },
  positionals: [
    { name: 'SUBCOMMAND', description: SUBCOMMANDS.join(' | '), required: true },
    { name: 'FILE', description: 'the .safetensors file to import (import only)' },
  ],
  async describe() {
    const catalog = await withHost((host) => host.call('engine:weightsCatalog', {}));
    return {
      options: { arch: `architecture for random: ${catalog.archs.join(', ')}` },
      details: `Weights ids: ${catalog.entries.map((e) => e.id).join(', ')}`,
    };
  },
  async run({ options, positionals }, io) {
    const sub = positionals[0] as Sub;
    if (!SUBCOMMANDS.includes(sub)) throw new UsageError(`unknown sub-command ${JSON.stringify(positionals[0])}; use one of ${SUBCOMMANDS.join(', ')}`);
    const file = positionals[1];
    if (file !== undefined && sub !== 'import') throw new UsageError(`unexpected argument ${JSON.stringify(file)}: only import takes a FILE`);
    const allowed: Record<Sub, string[]> = { list: [], fetch: ['id'], import: ['id'], verify: ['id'], random: ['arch', 'seed'] };
    for (const key of ['id', 'arch', 'seed']) {
      if (options[key] !== undefined && !allowed[sub].includes(key)) throw new UsageError(`--${key} does not apply to weights ${sub}`);
    }
    return withHost(async (host) => {
      const catalog = await host.call('engine:weightsCatalog', {});
      // Flags first: bad usage opens (or makes) no workspace.
      const id = sub === 'fetch' || sub === 'import' || sub === 'verify' ? idOption(options, catalog) : '';
      if (sub === 'import' && file === undefined) throw new UsageError('weights import needs the FILE to import');
      const arch = stringOption(options, 'arch');
      if (sub === 'random') {
        if (arch === undefined) throw new UsageError('--arch is required for weights random');
        if (!catalog.archs.includes(arch)) throw new UsageError(`--arch ${JSON.stringify(arch)}: choose one of ${catalog.archs.join(', ')}`);
      }
      const seed = intOption(options, 'seed', 0, 0, 2 ** 31 - 1);
      const cacheDir = join(await openWorkspace(host, options), 'weights');

      switch (sub) {
        case 'list': {
          const all = await host.call('engine:weights', {});
          if (!io.json) {
            io.out(`${'id'.padEnd(30)}${'arch'.padEnd(20)}${'size'.padEnd(22)}cache (${cacheDir})`);
            for (const s of all) io.out(describe(s));
          }
          return all;
        }
        case 'fetch': {
          let lastPct = -1;
          host.on('engine:weightsProgress', (p) => {
            if (io.json || p.id !== id) return;
            const pct = p.total ? Math.floor((100 * p.received) / p.total) : -1;
            if (pct === lastPct && pct !== -1) return;
            lastPct = pct;
            io.err(p.total ? `${id}: ${pct}% (${mb(p.received)} of ${mb(p.total)})` : `${id}: ${mb(p.received)}`);
          });
          const s = await host.call('engine:fetchWeights', { id });
          if (!io.json) io.out(`${id}: ${s.path} (sha256 ${s.local?.sha256 ?? '?'}${s.local?.matchesPublished ? ', matches the published hash' : ''})`);
          return s;
        }
        case 'import': {
          const s = await host.call('engine:importWeights', { id, file: resolve(file!) });
          if (!io.json) {
            const match = s.local?.matchesPublished === null ? 'no published hash to compare' : s.local?.matchesPublished ? 'matches the published hash' : 'differs from the published file';
            io.out(`${id}: imported into ${s.path} (${s.local?.structure === 'checked' ? 'every tensor checked' : 'structure not checked: architecture not built yet'}; ${match})`);
          }
          return s;
        }
        case 'verify': {
          const v = await host.call('engine:verifyWeights', { id });
          if (!io.json) io.out(v.ok ? `${id}: ok (${v.structure === 'checked' ? 'every tensor checked' : 'structure not checked'}, sha256 ${v.sha256})` : `${id}: FAILED\n  ${v.problems.join('\n  ')}`);
          if (!v.ok) {
            const error = new Error(`${id} failed verification: ${v.problems[0] ?? ''}`);
            error.name = 'VerificationError';
            throw error;
          }
          return v;
        }
        case 'random': {
          const r = await host.call('engine:randomWeights', { arch: arch!, seed });
          if (!io.json) io.out(`${arch}: random weights (seed ${seed}) written to ${r.path}; results from them are not pretrained`);
          return r;
        }
      }
    });
  },
};
