/**
 * The `miad-lab` command line: parses argv against each verb's declared options,
 * prints --help, and maps outcomes to exit codes (0 success, 1 failure, 2 bad usage).
 */
import { parseArgs } from 'node:util';
import { UsageError, type CliIO, type ParsedOptions, type VerbSpec } from './verb';
import { VERBS } from './verbs/index';

const GLOBAL_HELP_WIDTH = 18;

export function mainHelp(verbs: VerbSpec[] = VERBS): string {
  const lines = [
    'miad-lab — a lab for unsupervised visual anomaly detection on inspection images (MIAD)',
    '',
    'Usage: miad-lab <verb> [options]',
    '       miad-lab <verb> --help',
    '',
    'Verbs:',
    ...verbs.map((v) => `  ${v.name.padEnd(GLOBAL_HELP_WIDTH)}${v.summary}`),
    '',
    'Every verb takes --json (one JSON document on stdout) and --help.',
    'Exit codes: 0 success, 1 failure, 2 bad usage.',
  ];
  return lines.join('\n');
}

export function verbHelp(verb: VerbSpec, live: { options?: Record<string, string>; details?: string } = {}): string {
  const descriptions = live.options ?? {};
  const pos = (verb.positionals ?? []).map((p) => (p.required ? p.name : `[${p.name}]`)).join(' ');
  const lines = [`Usage: miad-lab ${verb.name}${pos ? ' ' + pos : ''} [options]`, '', verb.summary, ''];
  if (verb.positionals?.length) {
    lines.push('Arguments:');
    for (const p of verb.positionals) lines.push(`  ${p.name.padEnd(24)}${p.description}`);
    lines.push('');
  }
  lines.push('Options:');
  const entries = Object.entries(verb.options);
  entries.push(['json', { type: 'boolean', description: 'print the result as one JSON document' }]);
  entries.push(['help', { type: 'boolean', description: 'show this help' }]);
  for (const [name, spec] of entries) {
    const flag = `--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
    const extra = [spec.required ? '(required)' : '', spec.multiple ? '(repeatable)' : ''].filter(Boolean).join(' ');
    lines.push(`  ${flag.padEnd(24)}${descriptions[name] ?? spec.description}${extra ? ' ' + extra : ''}`);
  }
  if (verb.details) lines.push('', verb.details);
  if (live.details) lines.push('', live.details);
  return lines.join('\n');
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Runs one command line; resolves to the process exit code. */
export async function runCli(argv: string[], io: Omit<CliIO, 'json'>, verbs: VerbSpec[] = VERBS): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainHelp(verbs));
    return name === undefined ? 2 : 0;
  }
  const wantsJson = rest.includes('--json');
  const verb = verbs.find((v) => v.name === name);
  if (!verb) {
    const message = name.startsWith('-')
      ? `unknown option ${JSON.stringify(name)} before a verb`
      : `unknown verb ${JSON.stringify(name)}; run 'miad-lab --help' for the list`;
    report(io, wantsJson, 'UsageError', message);
    return 2;
  }
  const cliIO: CliIO = { ...io, json: wantsJson };
  try {
    const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    };
    for (const [key, spec] of Object.entries(verb.options)) {
      options[key] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) };
    }
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options, strict: true, allowPositionals: true });
    } catch (error) {
      throw new UsageError(`${errorMessage(error).replace(/\. To specify a positional.*$/s, '')} (see 'miad-lab ${verb.name} --help')`);
    }
    if (parsed.values.help) {
      io.out(verbHelp(verb, (await verb.describe?.()) ?? {}));
      return 0;
    }
    const positionals = parsed.positionals;
    const declared = verb.positionals ?? [];
    if (positionals.length > declared.length) {
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[declared.length])} (see 'miad-lab ${verb.name} --help')`);
    }
    declared.forEach((p, i) => {
      if (p.required && positionals[i] === undefined) throw new UsageError(`missing argument ${p.name} (see 'miad-lab ${verb.name} --help')`);
    });
    for (const [key, spec] of Object.entries(verb.options)) {
      if (spec.required && parsed.values[key] === undefined) {
        throw new UsageError(`--${key} is required (see 'miad-lab ${verb.name} --help')`);
      }
    }
    const { json: _json, help: _help, ...values } = parsed.values;
    const result = await verb.run({ options: values as ParsedOptions, positionals }, cliIO);
    if (wantsJson) io.out(JSON.stringify({ ok: true, result: result ?? null }, null, 2));
    return 0;
  } catch (error) {
    // Bad arguments and invalid values are usage errors (exit 2); everything else is a failure (exit 1).
    const usage = error instanceof UsageError || (error instanceof Error && (error.name === 'UsageError' || error.name === 'ValidationError'));
    const errName = error instanceof Error ? error.name : 'Error';
    report(io, wantsJson, errName, errorMessage(error));
    return usage ? 2 : 1;
  }
}

function report(io: Omit<CliIO, 'json'>, json: boolean, name: string, message: string): void {
  if (json) io.out(JSON.stringify({ ok: false, error: { name, message } }, null, 2));
  else io.err(`miad-lab: ${message}`);
}
