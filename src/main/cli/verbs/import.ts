/**
 * `miad-lab import --workspace W DIR [--name N] [--map folder=type ...] [--scan] [--rescan]`:
 * the importer from a script, through the app's calls (`import:scan`, `import:run`,
 * `import:rescan`). Every argument is checked, and the folder walked and its mapping resolved
 * (`import:scan` with no workspace open), BEFORE the workspace is opened, so bad usage (exit 2)
 * writes nothing: not even a new workspace database.
 */
import { resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { SKIP, mappingKey, type FolderMapping, type ImportReport, type ImportScan } from '../../../shared/calls/import';
import { withHost, type CliHost } from '../host';
import { UsageError, requiredString, stringOption, type CliIO, type ParsedOptions, type VerbSpec } from '../verb';

/**
 * `--map folder=type` applies to that folder in every scenario that has it; `--map
 * scenario/folder=type` to one scenario only. Keys are checked against the scan.
 */
export function parseMapOptions(raw: string[], scan: ImportScan): FolderMapping {
  const mapping: FolderMapping = {};
  for (const item of raw) {
    const eq = item.lastIndexOf('=');
    if (eq <= 0 || eq === item.length - 1) throw new UsageError(`--map expects folder=defect-type (or scenario/folder=defect-type), got ${JSON.stringify(item)}`);
    const key = item.slice(0, eq).trim();
    const target = item.slice(eq + 1).trim();
    const matches = scan.folders.filter((f) => mappingKey(f.scenario, f.folder) === key || f.folder === key);
    if (matches.length === 0) {
      const known = scan.folders.map((f) => mappingKey(f.scenario, f.folder));
      throw new UsageError(`--map ${JSON.stringify(item)}: no defect folder ${JSON.stringify(key)} in this dataset; folders: ${known.join(', ') || 'none'}`);
    }
    for (const f of matches) {
      if (target !== SKIP && f.allowed !== null && !f.allowed.includes(target)) {
        throw new UsageError(
          `--map ${JSON.stringify(item)}: ${JSON.stringify(target)} is not a defect type of ${f.scenario}; Table A.1 allows ${f.allowed.join(', ')} (or skip)`,
        );
      }
      mapping[mappingKey(f.scenario, f.folder)] = target;
    }
  }
  return mapping;
}

function printReport(io: CliIO, report: ImportReport): void {
  const t = report.totals;
  io.out(
    `${report.kind === 'import' ? 'Imported' : 'Rescanned'} ${report.name} (${report.datasetKind}) as dataset ${report.datasetId}: ` +
      `${t.samples} samples, ${t.masks} masks, ${t.skipped} skipped, ${(t.bytes / 1e6).toFixed(1)} MB in ${report.seconds.toFixed(1)} s`,
  );
  if (report.changes) {
    const c = report.changes;
    io.out(`  changes: ${c.added} added, ${c.removed} removed, ${c.modified} modified, ${c.touched} touched, ${c.relabelled} relabelled, ${c.unchanged} unchanged`);
  }
  for (const s of report.scenarios) {
    const fmt = (m: Record<string, number>) => Object.entries(m).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
    io.out(`  ${s.scenario.padEnd(22)} train: ${fmt(s.train)} | test: ${fmt(s.test)} | masks ${s.masks}${s.skipped ? ` | skipped ${s.skipped}` : ''}`);
  }
  for (const g of report.problems) {
    io.out(`  problem ${g.kind}: ${g.count}`);
    for (const e of g.examples.slice(0, 3)) io.out(`    ${e.path}${e.detail ? ` (${e.detail})` : ''}`);
  }
}

async function workspaceDir(host: CliHost, options: ParsedOptions): Promise<{ dir: string; isWorkspace: boolean }> {
  const { dir, state } = await host.call('workspaces:inspect', { dir: resolve(requiredString(options, 'workspace')) });
  if (state === 'file') throw new UsageError(`--workspace ${dir} is a file, not a folder`);
  if (state === 'other') throw new UsageError(`--workspace ${dir} is not empty and holds no MIAD Lab workspace (no lab.sqlite)`);
  if (options.rescan && state !== 'workspace') throw new UsageError(`--workspace ${dir} holds no workspace: nothing to rescan`);
  return { dir, isWorkspace: state === 'workspace' };
}

/** A scan's refusal (no such folder, no dataset layout) is bad usage. */
async function scan(host: CliHost, root: string, mapping?: FolderMapping): Promise<ImportScan> {
  return host.call('import:scan', { root, ...(mapping ? { mapping } : {}) }).catch((error: unknown) => {
    if (error instanceof Error && error.name === 'ValidationError') throw new UsageError(error.message);
    throw error;
  });
}

export const importVerb: VerbSpec = {
  name: 'import',
  summary: 'import a dataset folder (MIAD or MVTec AD layout) into a workspace, with a report',
  details: [
    'Recognises <scenario>/train/good, <scenario>/test/<defect>, <scenario>/ground_truth/<defect>/*_mask.png,',
    'the extra <scenario>/<scenario>/ level, .png and .jpg. Defect folders of MIAD scenarios are mapped to',
    'Table A.1 by aliases; a folder that cannot be mapped stops the import until --map names its type',
    '(or skip). The workspace is created when the folder is missing or empty.',
    'Examples:',
    '  miad-lab import --workspace ~/lab /data/MIAD',
    '  miad-lab import --workspace ~/lab /data/MIAD --map missing=nut_miss --map nut_and_bolt/odd=skip',
    '  miad-lab import --workspace ~/lab /data/MIAD --rescan',
  ].join('\n'),
  options: {
    workspace: { type: 'string', value: 'DIR', description: 'workspace folder (created when missing or empty)', required: true },
    name: { type: 'string', value: 'NAME', description: 'dataset name (default: the folder name)' },
    map: { type: 'string', value: 'FOLDER=TYPE', description: 'map a defect folder to a Table A.1 type, or to skip', multiple: true },
    scan: { type: 'boolean', description: 'only show what the folder holds; write nothing' },
    rescan: { type: 'boolean', description: 'rescan the dataset already imported from DIR (applies only what changed)' },
  },
  positionals: [{ name: 'DIR', description: 'the dataset folder', required: true }],
  async run({ options, positionals }, io) {
    const root = resolve(positionals[0]!);
    const info = await stat(root).catch(() => null);
    if (!info) throw new UsageError(`DIR ${root} does not exist`);
    if (!info.isDirectory()) throw new UsageError(`DIR ${root} is a file, not a folder`);
    const name = stringOption(options, 'name');
    if (options.scan && options.rescan) throw new UsageError('--scan and --rescan exclude each other');
    if (options.rescan && name !== undefined) throw new UsageError('--name applies to a new import, not to --rescan');
    return withHost(async (host) => {
      const ws = options.scan ? null : await workspaceDir(host, options);
      const mapping = parseMapOptions((options.map as string[] | undefined) ?? [], await scan(host, root));
      const resolved = await scan(host, root, mapping);
      if (options.scan) {
        if (!io.json) {
          io.out(`${root}: ${resolved.kind} layout, ${resolved.images} images, ${resolved.masks} masks, ${resolved.scenarios.length} scenarios`);
          for (const s of resolved.scenarios) io.out(`  ${s.scenario.padEnd(22)} ${s.dir.padEnd(40)} train ${s.train}, test ${s.test}, masks ${s.masks}`);
          for (const f of resolved.folders) io.out(`  ${mappingKey(f.scenario, f.folder).padEnd(40)} → ${f.target ?? 'UNMAPPED'} (${f.how ?? 'needs --map'})`);
        }
        return resolved;
      }
      // An existing workspace is opened first, so "already imported" is said before "map these folders".
      const existing = ws!.isWorkspace ? await host.call('workspaces:open', { dir: ws!.dir }).then(async () => (await host.call('datasets:list', {})).find((d) => d.root === root)?.id ?? null) : null;
      if (options.rescan && existing === null) throw new UsageError(`${root} is not imported in ${ws!.dir}: import it first (without --rescan)`);
      if (!options.rescan && existing !== null) throw new UsageError(`${root} is already imported in ${ws!.dir} as dataset ${existing}: use --rescan`);
      if (!options.rescan && resolved.unmapped.length > 0) {
        const list = resolved.unmapped.map((f) => `${mappingKey(f.scenario, f.folder)} (${f.images} images; allowed: ${(f.allowed ?? []).join(', ')}, or skip)`);
        throw new UsageError(`nothing imported: ${resolved.unmapped.length} defect folder(s) need --map FOLDER=TYPE first: ${list.join('; ')}`);
      }
      if (!ws!.isWorkspace) await host.call('workspaces:open', { dir: ws!.dir, create: true });
      let lastPhase = '';
      if (!io.json) {
        host.on('import:progress', (p) => {
          if (p.phase !== lastPhase && p.phase !== 'done') io.err(`  ${p.phase}…`);
          lastPhase = p.phase;
        });
      }
      const result = options.rescan
        ? await host.call('import:rescan', { datasetId: existing!, mapping })
        : await host.call('import:run', { root, ...(name !== undefined ? { name } : {}), mapping });
      if (!io.json) printReport(io, result.report);
      return result;
    });
  },
};
