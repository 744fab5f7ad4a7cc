/** `miad-lab import`: bad arguments exit 2 with a clear message and write nothing; good ones import. */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../../src/main/cli/main';
import { useTmpDirs } from '../helpers/tmp';
import { scenarioFiles, writeTree } from './helpers';
import { capture } from '../helpers/cli';

const tmp = useTmpDirs();
const BIN = join(__dirname, '../../bin/miad-lab.mjs');

async function dataset(): Promise<string> {
  const root = join(await tmp(), 'data');
  await writeTree(root, { ...scenarioFiles('nut_and_bolt', ['missing', 'looseness'], { seed: 1 }), ...scenarioFiles('metal_welding', ['pits'], { seed: 50 }) });
  return root;
}

describe('miad-lab import', () => {
  it('bad usage exits 2 with a message naming the problem, and writes nothing', async () => {
    const root = await dataset();
    const base = await tmp();
    const ws = join(base, 'ws');
    const file = join(base, 'file.txt');
    await writeFile(file, 'x');
    const cases: [string[], RegExp][] = [
      [['import', '--workspace', ws, root, '--colour'], /Unknown option '--colour'/],
      [['import', '--workspace', ws], /missing argument DIR/],
      [['import', root], /--workspace is required/],
      [['import', '--workspace', ws, join(base, 'nope')], /DIR .*nope does not exist/],
      [['import', '--workspace', ws, file], /DIR .*file\.txt is a file, not a folder/],
      [['import', '--workspace', file, root], /--workspace .* is a file/],
      [['import', '--workspace', ws, root, '--map', 'missing=crack'], /"crack" is not a defect type of nut_and_bolt; Table A.1 allows looseness, bolt_miss, nut_miss \(or skip\)/],
      [['import', '--workspace', ws, root, '--map', 'nothere=nut_miss'], /no defect folder "nothere"/],
      [['import', '--workspace', ws, root, '--map', 'missing'], /--map expects folder=defect-type/],
      [['import', '--workspace', ws, root], /nut_and_bolt\/missing \(2 images; allowed: looseness, bolt_miss, nut_miss, or skip\)/],
      [['import', '--workspace', ws, root, '--rescan'], /holds no workspace: nothing to rescan/],
      [['import', '--workspace', ws, base], /no dataset layout found/],
    ];
    for (const [argv, message] of cases) {
      const c = capture();
      expect(await runCli(argv, c.io), argv.join(' ')).toBe(2);
      expect(c.err.join('\n'), argv.join(' ')).toMatch(message);
    }
    expect(existsSync(ws)).toBe(false);
    expect((await readdir(base)).sort()).toEqual(['file.txt']);
  });

  it('imports with --map, prints the report as JSON, then rescans', async () => {
    const root = await dataset();
    const ws = join(await tmp(), 'ws');
    const c = capture();
    expect(await runCli(['import', '--workspace', ws, root, '--map', 'missing=nut_miss', '--name', 'field copy', '--json'], c.io)).toBe(0);
    const parsed = JSON.parse(c.out.join('')) as { ok: boolean; result: { datasetId: number; report: { name: string; totals: { samples: number }; scenarios: { scenario: string; test: Record<string, number> }[] } } };
    expect(parsed.ok).toBe(true);
    expect(parsed.result.report.name).toBe('field copy');
    expect(parsed.result.report.totals.samples).toBe(16);
    expect(parsed.result.report.scenarios.find((s) => s.scenario === 'metal_welding')!.test).toEqual({ good: 2, weld_pit: 2 });
    expect(parsed.result.report.scenarios.find((s) => s.scenario === 'nut_and_bolt')!.test).toEqual({ good: 2, nut_miss: 2, looseness: 2 });

    const again = capture();
    expect(await runCli(['import', '--workspace', ws, root], again.io)).toBe(2);
    expect(again.err.join('')).toMatch(/already imported .* as dataset 1: use --rescan/);

    const rescan = capture();
    expect(await runCli(['import', '--workspace', ws, root, '--rescan'], rescan.io)).toBe(0);
    expect(rescan.out.join('\n')).toMatch(/0 added, 0 removed, 0 modified, 0 touched, 0 relabelled, 16 unchanged/);

    const scan = capture();
    expect(await runCli(['import', root, '--scan', '--workspace', ws], scan.io)).toBe(0);
    expect(scan.out.join('\n')).toMatch(/nut_and_bolt\/missing\s+→ UNMAPPED/);
  });

  it('the real command exits 2 on a file given as DIR', async () => {
    const base = await tmp();
    await writeFile(join(base, 'f.png'), 'x');
    const run = spawnSync(process.execPath, [BIN, 'import', '--workspace', join(base, 'ws'), join(base, 'f.png')], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/is a file, not a folder/);
    expect(existsSync(join(base, 'ws'))).toBe(false);
  });
});
