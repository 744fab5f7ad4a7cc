/**
 * `miad-lab cache stats|clear|cap --workspace W`: the workspace's frozen-feature cache from the
 * command line, through the app's calls (`engine:cache`, `engine:clearCache`, `engine:setCacheCap`):
 * how much it holds and how often runs hit it, emptying it, and its size cap. Those calls read the
 * cache folder directly, so this works while the app or a job has the workspace open.
 */
import { resolve } from 'node:path';
import { DEFAULT_FEATURE_CACHE_CAP_BYTES } from '../../../shared/limits';
import { withHost, withWorkspace } from '../host';
import { UsageError, requiredString, stringOption, type VerbSpec } from '../verb';

const SUBCOMMANDS = ['stats', 'clear', 'cap'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

function gb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

export const cacheVerb: VerbSpec = {
  name: 'cache',
  summary: "show, clear or cap a workspace's frozen-feature cache",
  details: [
    'Sub-commands:',
    '  stats            entries, bytes, cap, and hits / misses of every run since the last clear',
    '  clear            remove every cached feature (runs compute them again)',
    `  cap --gb N       set the size cap (default ${DEFAULT_FEATURE_CACHE_CAP_BYTES / 1e9} GB); least recently used entries go first`,
    '',
    'The cache lives in W/cache/features; PatchCore runs fill and use it.',
  ].join('\n'),
  options: {
    workspace: { type: 'string', value: 'W', description: 'the workspace folder', required: true },
    gb: { type: 'string', value: 'N', description: 'cap: the new size cap in GB (decimals allowed)' },
  },
  positionals: [{ name: 'SUBCOMMAND', description: SUBCOMMANDS.join(' | '), required: true }],
  async run({ options, positionals }, io) {
    const sub = positionals[0] as Sub;
    if (!SUBCOMMANDS.includes(sub)) throw new UsageError(`unknown sub-command ${JSON.stringify(positionals[0])}; use one of ${SUBCOMMANDS.join(', ')}`);
    const workspace = resolve(requiredString(options, 'workspace'));
    const { state } = await withHost((host) => host.call('workspaces:inspect', { dir: workspace }));
    if (state !== 'workspace') throw new UsageError(`--workspace ${workspace} is not a MIAD Lab workspace`);
    if (options.gb !== undefined && sub !== 'cap') throw new UsageError(`--gb applies to cache cap only`);
    let capBytes = 0;
    if (sub === 'cap') {
      const raw = stringOption(options, 'gb');
      if (raw === undefined) throw new UsageError('cache cap needs --gb N');
      const value = Number(raw);
      if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !Number.isFinite(value)) throw new UsageError(`--gb expects a number of GB, got ${JSON.stringify(raw)}`);
      capBytes = Math.round(value * 1e9);
    }
    return withWorkspace(workspace, async (host) => {
      switch (sub) {
        case 'stats': {
          const s = await host.call('engine:cache', {});
          const lookups = s.hits + s.misses;
          if (!io.json) {
            io.out(`Feature cache ${s.dir}`);
            io.out(`  entries  ${s.entries}`);
            io.out(`  size     ${gb(s.bytes)} of ${gb(s.capBytes)} cap`);
            io.out(`  hits     ${s.hits}  misses ${s.misses}${lookups ? `  (hit rate ${((100 * s.hits) / lookups).toFixed(1)} %)` : ''}`);
          }
          return s;
        }
        case 'clear': {
          const removed = await host.call('engine:clearCache', {});
          if (!io.json) io.out(`Removed ${removed.entries} cached feature file(s), ${gb(removed.bytes)}.`);
          return removed;
        }
        case 'cap': {
          const s = await host.call('engine:setCacheCap', { bytes: capBytes });
          if (!io.json) io.out(`Cap set to ${gb(s.capBytes)}; the cache holds ${s.entries} entries, ${gb(s.bytes)}.`);
          return s;
        }
      }
    });
  },
};
