/** A small argv parser: positionals, `--flag`, `--key value` and `--key=value`. */
export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string | true>;
}

/** Options that never take a value. */
const BOOLEAN = new Set(['json', 'quiet', 'help', 'clear', 'force', 'incremental', 'verify', 'off', 'no-safety']);

export function parseArgs(argv: string[]): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') {
      options.set('help', true);
    } else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const key = arg.slice(2, eq < 0 ? undefined : eq);
      if (eq >= 0) options.set(key, arg.slice(eq + 1));
      else if (BOOLEAN.has(key) || i + 1 >= argv.length || argv[i + 1]!.startsWith('--')) options.set(key, true);
      else options.set(key, argv[++i]!);
    } else {
      positionals.push(arg);
    }
  }
  return { positionals, options };
}

/** Bad command-line input: the CLI exits with its bad-input code. */
export class ArgsError extends Error {}

const COMMON = ['dir', 'json', 'quiet', 'help'];

/**
 * Refuses options the command does not know, and value options given without a value — a typo
 * (`--compresion gzip`) must not silently run with the default.
 */
export function checkOptions(args: ParsedArgs, command: string, allowed: readonly string[]): void {
  for (const [key, value] of args.options) {
    if (!COMMON.includes(key) && !allowed.includes(key)) {
      throw new ArgsError(`Unknown option --${key} for "${command}". See: vecsnap ${command.split(' ')[0]} --help`);
    }
    if (value === true && !BOOLEAN.has(key)) throw new ArgsError(`--${key} needs a value.`);
    // `--clear=false` must not mean "clear": a switch is on by being there, and takes no value.
    if (value !== true && BOOLEAN.has(key)) throw new ArgsError(`--${key} is a switch and takes no value (got "--${key}=${value}").`);
    const range = INTEGER_RANGES[key];
    if (range) integerOption(args, key, range[0], range[1]);
  }
}

/** Integer options and their ranges, checked with the others before any work starts. */
const INTEGER_RANGES: Record<string, [number, number]> = {
  count: [1, 10_000_000],
  dimension: [1, 65_536],
  port: [0, 65_535],
  keep: [1, 100_000],
};

export function stringOption(args: ParsedArgs, key: string): string | undefined {
  const v = args.options.get(key);
  return typeof v === 'string' ? v : undefined;
}

/** An integer option within [min, max], or undefined when absent. */
export function integerOption(args: ParsedArgs, key: string, min: number, max: number): number | undefined {
  const v = stringOption(args, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new ArgsError(`--${key} must be a whole number from ${min} to ${max} (got "${v}").`);
  }
  return n;
}
