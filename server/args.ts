import os from 'node:os';
import path from 'node:path';

export interface ServeArgs {
  dir?: string;
  host: string;
  port?: number;
}

export const SERVE_HELP = `Usage: npm run serve -- [--dir <folder>] [--port <n>] [--host <address>]

Serves the VecSnap UI and API for one data folder to a browser.
  --dir   data folder (default: ${path.join('~', '.local', 'share', 'vecsnap', 'data')})
  --port  TCP port (default: a free one)
  --host  address to listen on (default 127.0.0.1; anything else exposes your data to the network)`;

export function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'vecsnap', 'data');
}

/** Parses `--dir`, `--port`, `--host` (also `--x=y`); returns `{ help }` for --help or bad input. */
export function parseServeArgs(argv: string[]): ServeArgs | { help: string } {
  const out: ServeArgs = { host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const next = (): string | undefined => inline ?? argv[++i];
    if (flag === '--help' || flag === '-h') return { help: SERVE_HELP };
    const value = next();
    if (value === undefined || value.startsWith('--')) return { help: `${flag} needs a value.\n\n${SERVE_HELP}` };
    if (flag === '--dir') out.dir = path.resolve(value);
    else if (flag === '--host') out.host = value;
    else if (flag === '--port') {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) return { help: `--port must be 0–65535.\n\n${SERVE_HELP}` };
      out.port = port;
    } else return { help: `Unknown option ${flag}.\n\n${SERVE_HELP}` };
  }
  return out;
}
