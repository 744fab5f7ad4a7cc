/**
 * The shape of one CLI verb. Every verb declares its options so that `--help` is generated,
 * unknown flags are refused (exit 2) and values are validated before anything runs.
 */

export type OptionType = 'string' | 'boolean';

export interface OptionSpec {
  type: OptionType;
  /** One line for --help. */
  description: string;
  /** Placeholder shown in --help, e.g. DIR or N. */
  value?: string;
  short?: string;
  /** May be given several times (values arrive as string[]). */
  multiple?: boolean;
  required?: boolean;
}

export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
}

export type ParsedOptions = Record<string, string | boolean | string[] | undefined>;

export interface VerbArgs {
  options: ParsedOptions;
  positionals: string[];
}

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** True when --json was given: print one JSON document on stdout, nothing else. */
  json: boolean;
}

export interface VerbSpec {
  name: string;
  summary: string;
  /** Extra text for --help (examples, notes). */
  details?: string;
  options: Record<string, OptionSpec>;
  positionals?: PositionalSpec[];
  /**
   * Help that comes from the lab itself (the methods `runs:methods` lists, the weights catalogue),
   * for --help: option descriptions replace the static ones of `options`, details are appended.
   */
  describe?(): Promise<{ options?: Record<string, string>; details?: string }>;
  /** Returns the JSON result (printed with --json); human output goes through io.out. */
  run(args: VerbArgs, io: CliIO): Promise<unknown>;
}

/** Bad usage: unknown verb or flag, missing or malformed value. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses an integer option; throws UsageError naming the flag when malformed or out of range. */
export function intOption(
  options: ParsedOptions,
  name: string,
  fallback: number,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = options[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw.trim())) {
    throw new UsageError(`--${name} expects an integer, got ${JSON.stringify(raw)}`);
  }
  const n = Number.parseInt(raw, 10);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function stringOption(options: ParsedOptions, name: string): string | undefined {
  const raw = options[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length === 0) throw new UsageError(`--${name} expects a value`);
  return raw;
}

export function requiredString(options: ParsedOptions, name: string): string {
  const v = stringOption(options, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}
