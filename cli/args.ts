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

export function stringOption(args: ParsedArgs, key: string): string | undefined {
  const v = args.options.get(key);
  return typeof v === 'string' ? v : undefined;
}

export function numberOption(args: ParsedArgs, key: string): number | undefined {
  const v = stringOption(args, key);
  return v === undefined ? undefined : Number(v);
}
