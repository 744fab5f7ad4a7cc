/**
 * `miad-lab compare`: the comparison of saved runs, written to a file the way the app exports it:
 * the paper's table or the per-defect-type table as CSV, JSON or LaTeX (the same text as the
 * compare:export call), or the qualitative grid of Figure A.1 as SVG or PNG (the SVG rasterised by
 * sharp). Every argument is checked before the workspace is touched, and unknown run ids are named.
 */
import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import sharp from 'sharp';
import { EXPORT_FORMATS, type GridData } from '../../../shared/calls/compare';
import { exportTables, scenarioLabel } from '../../../shared/compare/format';
import { cellRgba } from '../../../shared/compare/heat';
import { gridFigureSvg, type GridFigureLegend } from '../../../shared/compare/svg';
import { LabError } from '../../../shared/errors';
import { orderScenarios } from '../../../shared/taxonomy';
import type { RunDetail } from '../../../shared/types';
import { withWorkspace, type CliHost } from '../host';
import { UsageError, intOption, requiredString, stringOption, type ParsedOptions, type VerbSpec } from '../verb';

const FORMATS = [...EXPORT_FORMATS, 'png', 'svg'] as const;
type Format = (typeof FORMATS)[number];
const FIGURE_ONLY = ['scenario', 'per-defect', 'cell', 'scale', 'outline'] as const;
const TABLE_ONLY = ['by', 'table'] as const;

function oneOf<T extends string>(options: ParsedOptions, name: string, allowed: readonly T[], fallback: T): T {
  const raw = stringOption(options, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`--${name} is one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `3,5,7` → [3, 5, 7]: positive integers, each once, in the order given. */
export function parseRunIds(raw: string): number[] {
  // A trailing or doubled comma is a slip, not a run id.
  const parts = raw.split(',').map((p) => p.trim().replace(/^#/, '')).filter((p) => p !== '');
  const bad = parts.filter((p) => !/^\d+$/.test(p) || Number(p) < 1 || !Number.isSafeInteger(Number(p)));
  if (parts.length === 0 || bad.length > 0) {
    throw new UsageError(`--runs expects run ids separated by commas, e.g. --runs 3,5; ${bad.length > 0 ? `not run ids: ${bad.map((b) => JSON.stringify(b)).join(', ')}` : 'got none'}`);
  }
  const ids = [...new Set(parts.map(Number))];
  if (ids.length > 64) throw new UsageError(`--runs takes at most 64 runs at once, got ${ids.length}`);
  return ids;
}

function checkOut(out: string): void {
  if (existsSync(out) && statSync(out).isDirectory()) throw new UsageError(`--out ${out} is a folder: give a file name`);
  const dir = dirname(out);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--out: the folder ${dir} does not exist`);
}

/** The runs, or a usage error naming the unknown ids and what the workspace holds. */
async function checkRuns(host: CliHost, ids: readonly number[]): Promise<RunDetail[]> {
  const found: RunDetail[] = [];
  const missing: number[] = [];
  for (const runId of ids) {
    try {
      found.push(await host.call('runs:get', { runId }));
    } catch (error) {
      if (!(error instanceof Error) || error.name !== 'NotFoundError') throw error;
      missing.push(runId);
    }
  }
  if (missing.length === 0) return found;
  const known = (await host.call('runs:list', {})).map((r) => r.id).sort((a, b) => a - b);
  const hint = known.length === 0 ? 'the workspace has no runs yet' : `its runs: ${known.length > 12 ? `${known.slice(0, 12).join(', ')}, …` : known.join(', ')}`;
  throw new UsageError(`--runs: no run${missing.length > 1 ? 's' : ''} with id ${missing.join(', ')} in this workspace (${hint})`);
}

async function pngDataUri(input: Buffer | string, width: number, height: number, raw?: { width: number; height: number; channels: 4 }, nearest = false): Promise<string> {
  const img = raw ? sharp(input, { raw }) : sharp(input);
  const png = await img.resize(width, height, { fit: 'inside', kernel: nearest ? 'nearest' : 'lanczos3' }).png().toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** Data URIs for a picture file; null (an empty, marked cell) when it is missing or unreadable. */
async function fileDataUri(path: string | null, width: number, height: number, nearest: boolean): Promise<string | null> {
  if (!path) return null;
  try {
    return await pngDataUri(path, width, height, undefined, nearest);
  } catch {
    return null;
  }
}

/** The qualitative grid as an SVG string, each picture embedded. */
/** Why a run's column of the grid is empty, for the figure's notes. */
export function emptyColumnNotes(grid: GridData, runs: readonly RunDetail[]): string[] {
  const notes: string[] = [];
  for (const head of grid.runs) {
    if (head.hasMaps) continue;
    const run = runs.find((r) => r.id === head.runId);
    const why = !run
      ? 'has no anomaly maps'
      : !run.scenarios.includes(grid.scenario)
        ? `does not cover ${grid.scenario}`
        : run.kind === 'external'
          ? 'is an external run: its maps stay with the tool that made them'
          : `is ${run.status} and has no anomaly maps`;
    notes.push(`run #${head.runId} "${head.label}" ${why}: its column is empty`);
  }
  return notes;
}

/** A black picture: the ground truth of a normal image (nothing is defective). */
async function blackDataUri(width: number, height: number): Promise<string> {
  const png = await sharp({ create: { width, height, channels: 3, background: '#000000' } }).png().toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

export async function gridFigure(grid: GridData, scale: 'shared' | 'run', outline: boolean, notes: string[] = []): Promise<string> {
  const cells = grid.rows.flatMap((r) => r.cells.filter((c) => c !== null));
  const cw = Math.max(16, ...cells.map((c) => c!.width));
  const ch = Math.max(16, ...cells.map((c) => c!.height));
  if (outline) notes.push("cyan outline: pixels at or above each run's pixel F1-max threshold");
  const rows = [];
  for (const row of grid.rows) {
    const maps: (string | null)[] = [];
    for (const [i, cell] of row.cells.entries()) {
      const head = grid.runs[i]!;
      if (!cell) {
        maps.push(null);
        continue;
      }
      const rgba = cellRgba(cell, scale === 'shared' ? grid.shared : head.scale, outline ? head.pixelThreshold : null);
      maps.push(await pngDataUri(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), cell.width, cell.height, { width: cell.width, height: cell.height, channels: 4 }, true));
    }
    const first = row.cells.find((c) => c !== null);
    rows.push({
      label: row.defectType.replace(/_/g, ' '),
      sublabel: row.relPath.split('/').pop() ?? '',
      image: await fileDataUri(row.imagePath, cw, ch, false),
      mask: row.defectType === 'good' && !row.maskPath ? await blackDataUri(first?.width ?? cw, first?.height ?? ch) : await fileDataUri(row.maskPath, cw, ch, true),
      maps,
    });
  }
  const legends: GridFigureLegend[] = scale === 'shared' ? [{ label: '', ...grid.shared }] : grid.runs.filter((r) => r.hasMaps).map((r) => ({ label: r.label, ...r.scale }));
  return gridFigureSvg({
    title: `${scenarioLabel(grid.scenario)}: ${plural(grid.rows.length, 'test image')} × ${plural(grid.runs.length, 'run')}`,
    columns: grid.runs.map((r) => ({ label: r.label, randomInit: r.randomInit })),
    rows,
    cellWidth: cw,
    cellHeight: ch,
    legends,
    notes,
  });
}

export const compareVerb: VerbSpec = {
  name: 'compare',
  summary: 'compare saved runs: the paper table or the per-defect table (CSV, JSON, LaTeX), or the qualitative grid (PNG, SVG)',
  details: [
    'Tables read the runs\' stored metrics; --by method merges a method\'s runs on different scenarios',
    '(the newest finished run wins where two cover one scenario). LaTeX uses booktabs, values ×100,',
    'best per column in bold, random-init rows marked with a dagger.',
    'png and svg write the qualitative grid (the paper\'s Figure A.1) of one scenario: the highest-scoring',
    'images of each defect type by the first run and one normal image; the image, its ground truth and',
    'each run\'s anomaly map.',
    '',
    'Examples:',
    '  miad-lab compare --workspace W --runs 3,5 --format latex --out table.tex',
    '  miad-lab compare --workspace W --runs 3,5 --by method --table defects --format csv --out defects.csv',
    '  miad-lab compare --workspace W --runs 3,5 --format png --out grid.png --scenario nut_and_bolt',
  ].join('\n'),
  options: {
    workspace: { type: 'string', value: 'W', description: 'the workspace folder', required: true },
    runs: { type: 'string', value: 'ID,ID,...', description: 'the runs to compare, by id as the app lists them (an unknown id lists the known ones)', required: true },
    format: { type: 'string', value: 'F', description: `output format: ${FORMATS.join(', ')}`, required: true },
    out: { type: 'string', value: 'FILE', description: 'the file to write', required: true },
    by: { type: 'string', value: 'run|method', description: 'tables: one row per run (default) or per method' },
    table: { type: 'string', value: 'paper|defects', description: 'tables: the paper table (default) or the per-defect-type table' },
    scenario: { type: 'string', value: 'S', description: 'png/svg: the scenario to show (default: the only one the runs cover)' },
    'per-defect': { type: 'string', value: 'N', description: 'png/svg: test images per defect type, 1 to 4 (default 2)' },
    cell: { type: 'string', value: 'PX', description: 'png/svg: longest side of each picture, 16 to 512 (default 128)' },
    scale: { type: 'string', value: 'shared|run', description: 'png/svg: one colour scale for all runs (default) or one per run' },
    outline: { type: 'boolean', description: "png/svg: outline each run's predicted defect at its pixel F1-max threshold" },
  },
  async run({ options }, io) {
    const format = oneOf<Format>(options, 'format', FORMATS, 'csv');
    const runIds = parseRunIds(requiredString(options, 'runs'));
    const out = resolve(requiredString(options, 'out'));
    checkOut(out);
    const figure = format === 'png' || format === 'svg';
    for (const name of figure ? TABLE_ONLY : FIGURE_ONLY) {
      if (options[name] !== undefined) throw new UsageError(`--${name} does not apply to --format ${format} (it is for ${figure ? 'csv, json and latex' : 'png and svg'})`);
    }
    const rowsBy = oneOf(options, 'by', ['run', 'method'] as const, 'run');
    const table = oneOf(options, 'table', ['paper', 'defects'] as const, 'paper');
    const scale = oneOf(options, 'scale', ['shared', 'run'] as const, 'shared');
    const perDefect = intOption(options, 'per-defect', 2, 1, 4);
    const cellSize = intOption(options, 'cell', 128, 16, 512);
    const scenarioArg = stringOption(options, 'scenario');

    return withWorkspace(resolve(requiredString(options, 'workspace')), async (host) => {
      const runs = await checkRuns(host, runIds);
      if (!figure) {
        const tables = await host.call('compare:tables', { runIds, rowsBy });
        const text = exportTables(tables, table, format as (typeof EXPORT_FORMATS)[number]);
        await writeFile(out, text.text);
        const notes = table === 'paper' ? tables.paper.notes : tables.defects.notes;
        if (!io.json) {
          for (const n of notes) io.err(`note: ${n}`);
          const rows = table === 'paper' ? tables.paper.rows.length : tables.defects.rows.length;
          io.out(`Wrote the ${table === 'paper' ? 'paper' : 'per-defect-type'} table (${plural(rows, 'row')}, ${plural(runIds.length, 'run')}) as ${format} to ${out}`);
        }
        return { out, format, table, rowsBy, runIds, notes };
      }
      const covered = orderScenarios(runs.flatMap((r) => r.scenarios));
      let scenario = scenarioArg;
      if (scenario === undefined) {
        if (covered.length !== 1) throw new UsageError(`--scenario is needed: the runs cover ${covered.join(', ') || 'no scenario'}`);
        scenario = covered[0]!;
      } else if (!covered.includes(scenario)) {
        throw new UsageError(`--scenario ${scenario} is not covered by these runs; they cover ${covered.join(', ')}`);
      }
      const grid = await host.call('compare:grid', { runIds, scenario, perDefect, cellSize });
      if (grid.rows.length === 0) throw new LabError(`no run has scores for ${scenario}: nothing to show in the grid`, 'ConflictError');
      const notes = emptyColumnNotes(grid, runs);
      const svg = await gridFigure(grid, scale, options.outline === true, notes);
      if (format === 'svg') await writeFile(out, svg);
      else await sharp(Buffer.from(svg)).png().toFile(out);
      if (!io.json) {
        for (const n of notes) io.err(`note: ${n}`);
        io.out(`Wrote the qualitative grid of ${scenario} (${plural(grid.rows.length, 'image')} × ${plural(grid.runs.length, 'run')}) as ${format} to ${out}`);
      }
      return { out, format, scenario, runIds, images: grid.rows.map((r) => r.relPath), notes };
    });
  },
};
