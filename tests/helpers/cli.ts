/**
 * The CLI's output captured for a test: `runCli(args, c.io)`, then read `c.out` / `c.err` (one
 * entry per line written). Whether a verb prints JSON is decided by `--json` in the arguments.
 */
import { runCli } from '../../src/main/cli/main';
import type { CliIO, VerbSpec } from '../../src/main/cli/verb';

export function capture(): { io: Omit<CliIO, 'json'>; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

/** Runs the CLI with its output captured: the exit code and stdout / stderr as text. */
export async function cli(args: string[], verbs?: VerbSpec[]): Promise<{ code: number; out: string; err: string }> {
  const c = capture();
  const code = await runCli(args, c.io, verbs);
  return { code, out: c.out.join('\n'), err: c.err.join('\n') };
}
