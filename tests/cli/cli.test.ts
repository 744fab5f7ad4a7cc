import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { runCli } from '../../src/main/cli/main';
import { UsageError, intOption, type VerbSpec } from '../../src/main/cli/verb';
import { VERBS } from '../../src/main/cli/verbs/index';
import { useTmpDirs } from '../helpers/tmp';
import { capture } from '../helpers/cli';

const tmp = useTmpDirs();
const BIN = join(__dirname, '../../bin/miad-lab.mjs');

const echo: VerbSpec = {
  name: 'echo',
  summary: 'echo its options',
  options: { count: { type: 'string', value: 'N', description: 'a number' }, flag: { type: 'boolean', description: 'a flag' } },
  positionals: [{ name: 'DIR', description: 'a folder', required: true }],
  async run({ options, positionals }) {
    if (positionals[0] === 'boom') throw new Error('it broke');
    return { count: intOption(options, 'count', 1, 1, 10), flag: options.flag ?? false, dir: positionals[0] };
  },
};

describe('CLI framework', () => {
  it('exit codes: 0 success, 1 failure, 2 bad usage, with the offending name in the message', async () => {
    const c = capture();
    expect(await runCli(['echo', 'd', '--count', '3', '--json'], c.io, [echo])).toBe(0);
    expect(JSON.parse(c.out.join(''))).toEqual({ ok: true, result: { count: 3, flag: false, dir: 'd' } });

    const failure = capture();
    expect(await runCli(['echo', 'boom'], failure.io, [echo])).toBe(1);
    expect(failure.err.join('')).toMatch(/it broke/);

    const cases: [string[], RegExp][] = [
      [['nope'], /unknown verb "nope"/],
      [['echo', 'd', '--colour'], /Unknown option '--colour'/],
      [['echo', 'd', '--count', 'x'], /--count expects an integer, got "x"/],
      [['echo', 'd', '--count', '99'], /--count must be between 1 and 10/],
      [['echo'], /missing argument DIR/],
      [['echo', 'a', 'b'], /unexpected argument "b"/],
      [['--verbose'], /unknown option "--verbose" before a verb/],
    ];
    for (const [argv, message] of cases) {
      const bad = capture();
      expect(await runCli(argv, bad.io, [echo]), argv.join(' ')).toBe(2);
      expect(bad.err.join('\n'), argv.join(' ')).toMatch(message);
    }
    const json = capture();
    expect(await runCli(['echo', 'd', '--count', 'x', '--json'], json.io, [echo])).toBe(2);
    expect(JSON.parse(json.out.join(''))).toEqual({ ok: false, error: { name: 'UsageError', message: expect.stringMatching(/--count/) } });
    expect(new UsageError('x').name).toBe('UsageError');
  });

  it('every verb answers --help with its options, --json and --help', async () => {
    expect(VERBS.length).toBeGreaterThan(0);
    for (const verb of VERBS) {
      const c = capture();
      expect(await runCli([verb.name, '--help'], c.io)).toBe(0);
      const text = c.out.join('\n');
      expect(text).toContain(`Usage: miad-lab ${verb.name}`);
      for (const option of [...Object.keys(verb.options), 'json', 'help']) expect(text, `${verb.name} --${option}`).toContain(`--${option}`);
    }
  });
});

describe('the miad-lab command', () => {
  it('--help lists the verbs; no verb is bad usage', () => {
    const help = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    for (const verb of VERBS) expect(help.stdout).toContain(verb.name);
    expect(spawnSync(process.execPath, [BIN], { encoding: 'utf8' }).status).toBe(2);
    const unknown = spawnSync(process.execPath, [BIN, 'frobnicate'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown verb "frobnicate"/);
  });

  it('serve refuses a workspace that is a file, a foreign folder and a malformed port, writing nothing', async () => {
    const dir = await tmp();
    const file = join(dir, 'file.txt');
    await writeFile(file, 'x');
    const env = { ...process.env, MIAD_LAB_CONFIG_DIR: join(dir, 'config') };
    const asFile = spawnSync(process.execPath, [BIN, 'serve', '--workspace', file, '--port', '0'], { encoding: 'utf8', env });
    expect(asFile.status).toBe(2);
    expect(asFile.stderr).toMatch(/is a file, not a folder/);
    const foreign = spawnSync(process.execPath, [BIN, 'serve', '--workspace', dir, '--port', '0'], { encoding: 'utf8', env });
    expect(foreign.status).toBe(2);
    expect(foreign.stderr).toMatch(/not empty and holds no MIAD Lab workspace/);
    const port = spawnSync(process.execPath, [BIN, 'serve', '--port', 'eighty'], { encoding: 'utf8', env });
    expect(port.status).toBe(2);
    expect(port.stderr).toMatch(/--port expects an integer/);
    const host = spawnSync(process.execPath, [BIN, 'serve', '--host', 'a b;c', '--port', '0'], { encoding: 'utf8', env });
    expect(host.status).toBe(2);
  });
});
