import { describe, it, expect } from 'vitest';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../../src/main/cli/main';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('miad-lab demo', () => {
  it('refuses bad values with exit 2 and a message naming the problem', async () => {
    const dir = await tmp();
    const cases: [string[], RegExp][] = [
      [['demo'], /--out is required/],
      [['demo', '--out', dir, '--size', '32'], /--size must be between 64 and 1024/],
      [['demo', '--out', dir, '--size', 'big'], /--size expects an integer/],
      [['demo', '--out', dir, '--train', '0'], /--train must be between 1 and 5000/],
      [['demo', '--out', dir, '--test', '2001'], /--test must be between 1 and 2000/],
      [['demo', '--out', dir, '--seed=-1'], /--seed must be between 0/],
      [['demo', '--out', dir, '--viewpoint', '1.5'], /--viewpoint expects a number between 0 and 1/],
      [['demo', '--out', dir, '--surface', 'x'], /--surface expects a number between 0 and 1/],
      [['demo', '--out', dir, '--scenarios', 'wind_turbine,bridge'], /unknown scenario "bridge"; valid: catenary_dropper, .*witness_mark/],
      [['demo', '--out', dir, '--colour', 'red'], /Unknown option '--colour'/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(message);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses an --out that is a file or a foreign non-empty folder', async () => {
    const dir = await tmp();
    await writeFile(join(dir, 'f.txt'), 'x');
    const file = await cli(['demo', '--out', join(dir, 'f.txt')]);
    expect(file.code).toBe(2);
    expect(file.err).toMatch(/is an existing file/);
    const busy = await cli(['demo', '--out', dir, '--json']);
    expect(busy.code).toBe(2);
    expect(JSON.parse(busy.out)).toMatchObject({ ok: false, error: { name: 'UsageError' } });
    expect(JSON.parse(busy.out).error.message).toMatch(/not empty and is not an earlier MIAD-mini output/);
  });

  it('generates and reports, in human and JSON form', async () => {
    const dir = join(await tmp(), 'mini');
    const human = await cli(['demo', '--out', dir, '--train', '2', '--test', '4', '--size', '64', '--scenarios', 'nut_and_bolt,witness_mark']);
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/nut_and_bolt\s+6 images/);
    expect(human.out).toMatch(/witness_mark\s+6 images/);
    expect(human.out).toMatch(/12 images and 4 masks .* images\/s/);
    // Regenerating into its own earlier output is allowed.
    const json = await cli(['demo', '--out', dir, '--train', '1', '--test', '2', '--size', '64', '--scenarios', 'witness_mark', '--seed', '5', '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.out);
    expect(doc.ok).toBe(true);
    expect(doc.result.totals).toMatchObject({ images: 3, masks: 1 });
    expect(doc.result.options).toMatchObject({ seed: 5, size: 64, scenarios: ['witness_mark'] });
    expect(doc.result.scenarios).toEqual([{ scenario: 'witness_mark', train: 1, testGood: 1, testAnomalous: 1, byDefect: { looseness: 1 } }]);
    expect((await readdir(dir)).sort()).toEqual(['miad-mini.json', 'witness_mark']);
  });
});
