#!/usr/bin/env node
/**
 * `vecsnap`: the snapshot manager for scripts and cron — the same service the app uses, in process.
 */
import path from 'node:path';
import type { JobFinished, JobRef, Result, VecSnapApi } from '../core/service/contract.js';
import { createService } from '../core/service/service.js';
import { defaultDataDir } from '../server/args.js';
import { ArgsError, checkOptions, integerOption, parseArgs, stringOption, type ParsedArgs } from './args.js';
import { EXIT, ProgressLine, exitCodeFor, formatBytes } from './output.js';

const HELP: Record<string, string> = {
  main: `Usage: vecsnap <command> [options]   (every command takes --dir <folder>, --json, --quiet)

Commands:
  info                              the database: count, dimension, unsaved changes, snapshots
  save [--incremental]              save the database (full, or only the changes)
  snapshot create <name> [--note N] [--tags a,b] [--format F] [--compression C]
  snapshot list                     snapshots, newest first
  snapshot restore <id> [--no-safety]
  snapshot delete <id> [--force]    (--force deletes a pinned snapshot)
  snapshot verify <id>              SHA-256 of the file against its metadata
  snapshot pin <id> [--off]
  compare <idA> <idB>               content diff: added, removed, changed
  inspect <file>                    what a file holds (always verifies it) (format, compression, count)
  export <file> [--snapshot <id>] [--format F] [--compression C]
  import <file> [--clear]
  sample [--count N] [--dimension D]
  serve [--port N] [--host H]       the app in a browser

Exit codes: 0 ok, 2 bad input or not found, 3 integrity failure (checksum, damaged file),
4 I/O failure (disk full, permissions, busy), 130 cancelled.`,
  serve: `Usage: vecsnap serve [--dir <folder>] [--port N] [--host H]
Serves the app to a browser on 127.0.0.1 (unless --host), printing a URL with its access token.`,
  info: `Usage: vecsnap info [--dir <folder>] [--json]
The database: vectors, dimension, metric, memory, unsaved changes, snapshot count.`,
  save: `Usage: vecsnap save [--incremental] [--dir <folder>] [--json]
Saves the database. --incremental writes only what changed since the last save (a delta), or a
full save when there is no base yet or the chain has grown large.`,
  snapshot: `Usage: vecsnap snapshot <create|list|restore|delete|verify|pin> … [--dir <folder>] [--json]
  create <name> [--note N] [--tags a,b] [--format json|binary|sqlite] [--compression none|gzip|brotli] [--keep N]
                            --keep N: then delete the oldest unpinned snapshots beyond N (default 50)
  list                      newest first: id, time, vectors, size, format, integrity, name
  restore <id> [--no-safety] takes a safety snapshot first unless --no-safety
  delete <id> [--force]     pinned snapshots need --force
  verify <id>               exit 3 when the file's SHA-256 does not match its metadata
  pin <id> [--off]`,
  compare: `Usage: vecsnap compare <idA> <idB> [--dir <folder>] [--json]
Counts of ids added (in B only), removed (in A only), changed and unchanged, with samples in --json.`,
  inspect: `Usage: vecsnap inspect <file> [--dir <folder>] [--json]
Detects the format and compression from the content and reads the whole file to verify it.`,
  export: `Usage: vecsnap export <file> [--snapshot <id>] [--format F] [--compression C] [--dir <folder>]
Writes the database (or one snapshot) to <file> atomically; the default is binary, uncompressed
(a snapshot keeps its own format unless told otherwise).`,
  import: `Usage: vecsnap import <file> [--clear] [--dir <folder>] [--json]
Upserts the file's vectors into the database (or replaces it with --clear) and saves.`,
  sample: `Usage: vecsnap sample [--count N] [--dimension D] [--dir <folder>]
Fills an empty database with clustered sample vectors and three snapshots.`,
};

/** The options each command takes besides --dir, --json, --quiet and --help. */
const OPTIONS: Record<string, readonly string[]> = {
  info: [],
  save: ['incremental'],
  snapshot: [],
  'snapshot create': ['note', 'tags', 'format', 'compression', 'keep'],
  'snapshot list': [],
  'snapshot restore': ['no-safety'],
  'snapshot delete': ['force'],
  'snapshot verify': [],
  'snapshot pin': ['off'],
  compare: [],
  // --verify is accepted for scripts written before inspect always verified.
  inspect: ['verify'],
  export: ['snapshot', 'format', 'compression'],
  import: ['clear'],
  sample: ['count', 'dimension'],
  serve: ['port', 'host'],
};

/** How many words each command takes, its own name included. */
const POSITIONALS: Record<string, number> = {
  info: 1,
  save: 1,
  'snapshot create': 3,
  'snapshot list': 2,
  'snapshot restore': 3,
  'snapshot delete': 3,
  'snapshot verify': 3,
  'snapshot pin': 3,
  compare: 3,
  inspect: 2,
  export: 2,
  import: 2,
  sample: 1,
  serve: 1,
};

interface Context {
  api: VecSnapApi;
  args: ParsedArgs;
  json: boolean;
  quiet: boolean;
  progress: ProgressLine;
}

class CliExit extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new CliExit(exitCodeFor(result.error.code), `${result.error.message} (${result.error.code})`);
  return result.value;
}

/** Starts a job and waits for its end, drawing progress on a TTY. */
async function runJob(ctx: Context, start: Promise<Result<JobRef>>): Promise<JobFinished> {
  const pending: JobFinished[] = [];
  let jobId: string | undefined;
  let resolveDone: ((f: JobFinished) => void) | undefined;
  const done = new Promise<JobFinished>((resolve) => (resolveDone = resolve));
  const off = ctx.api.onEvent((event) => {
    if (event.type === 'jobs:progress' && event.progress.jobId === jobId) ctx.progress.update(event.progress);
    if (event.type === 'jobs:finished') {
      if (event.finished.jobId === jobId) resolveDone?.(event.finished);
      else pending.push(event.finished);
    }
  });
  const onSignal = (): void => void (jobId ? ctx.api.cancelJob({ jobId }) : undefined);
  process.once('SIGINT', onSignal);
  try {
    jobId = unwrap(await start).jobId;
    const early = pending.find((f) => f.jobId === jobId);
    const finished = early ?? (await done);
    ctx.progress.end();
    if (finished.state !== 'done') {
      const error = finished.error ?? { code: 'IO_ERROR' as const, message: 'The job failed.' };
      throw new CliExit(exitCodeFor(error.code), `${error.message} (${error.code})`);
    }
    return finished;
  } finally {
    off();
    process.off('SIGINT', onSignal);
    ctx.progress.end();
  }
}

function print(ctx: Context, value: unknown, human: () => string): void {
  if (ctx.json) process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  else if (!ctx.quiet) process.stdout.write(human() + '\n');
}

function need(ctx: Context, index: number, what: string): string {
  const v = ctx.args.positionals[index];
  if (!v) throw new CliExit(EXIT.badInput, `Missing ${what}. See: vecsnap --help`);
  return v;
}

async function command(ctx: Context): Promise<number> {
  const [cmd, sub] = ctx.args.positionals;
  const { api, args } = ctx;
  switch (cmd) {
    case 'info': {
      const info = unwrap(await api.workspaceInfo());
      print(ctx, info, () =>
        [
          `Folder:     ${info.dataDir}`,
          `Vectors:    ${info.count.toLocaleString('en-US')} × ${info.dimension} (${info.metric}), ${formatBytes(info.memoryBytes)} in memory`,
          `Changes:    ${info.hasUnsavedChanges ? 'unsaved changes' : 'all changes saved'}`,
          `Snapshots:  ${info.snapshotCount}`,
          ...info.notices.map((n) => `Note:       ${n}`),
        ].join('\n'),
      );
      return EXIT.ok;
    }
    case 'save': {
      const f = await runJob(ctx, api.saveDatabase({ incremental: args.options.has('incremental') }));
      const r = f.kind === 'save' ? f.result : undefined;
      print(ctx, r, () => (r?.path ? `Saved (${r.kind}) to ${r.path}` : 'Nothing to save.'));
      return EXIT.ok;
    }
    case 'snapshot':
      return snapshotCommand(ctx, sub);
    case 'compare': {
      const f = await runJob(ctx, api.compareSnapshots({ a: need(ctx, 1, 'the first snapshot id'), b: need(ctx, 2, 'the second snapshot id') }));
      const r = f.kind === 'snapshot-compare' ? f.result! : undefined;
      print(ctx, r, () => {
        const d = r!.diff!;
        return `${r!.a.name} → ${r!.b.name}: ${d.added} added, ${d.removed} removed, ${d.changed} changed, ${d.unchanged} unchanged${r!.sameContent ? ' (same content)' : ''}`;
      });
      return EXIT.ok;
    }
    case 'inspect': {
      const file = path.resolve(need(ctx, 1, 'a file'));
      const f = await runJob(ctx, api.previewImport({ path: file }));
      const r = f.kind === 'import-preview' ? f.result! : undefined;
      print(ctx, r, () => `${file}: ${r!.format}${r!.compression === 'none' ? '' : ` + ${r!.compression}`}, ${r!.count ?? r!.header.count} vectors × ${r!.header.dimension}, ${formatBytes(r!.fileSize)}${r!.verified ? ', checksum verified' : ''}${r!.legacy ? ' (original module format)' : ''}`);
      return EXIT.ok;
    }
    case 'export': {
      const file = path.resolve(need(ctx, 1, 'the file to write'));
      const format = stringOption(args, 'format');
      const compression = stringOption(args, 'compression');
      const snapshot = stringOption(args, 'snapshot');
      const start = snapshot
        ? api.exportSnapshot({ id: snapshot, path: file, ...(format ? { format: format as 'json' } : {}), ...(compression ? { compression: compression as 'none' } : {}) })
        : api.exportDatabase({ path: file, format: (format ?? 'binary') as 'binary', compression: (compression ?? 'none') as 'none' });
      const f = await runJob(ctx, start);
      print(ctx, f.result, () => `Exported to ${file}`);
      return EXIT.ok;
    }
    case 'import': {
      const file = path.resolve(need(ctx, 1, 'the file to read'));
      const f = await runJob(ctx, api.importFile({ path: file, clear: args.options.has('clear') }));
      const r = f.kind === 'import' ? f.result! : undefined;
      print(ctx, r, () => `Imported ${r!.imported} vectors; the database now holds ${r!.count} (saved).`);
      return EXIT.ok;
    }
    case 'sample': {
      const count = integerOption(args, 'count', 1, 10_000_000);
      const dimension = integerOption(args, 'dimension', 1, 65_536);
      const f = await runJob(ctx, api.generateSampleData({ ...(count !== undefined ? { count } : {}), ...(dimension !== undefined ? { dimension } : {}) }));
      print(ctx, f.result, () => 'Sample data generated and saved.');
      return EXIT.ok;
    }
    default:
      throw new CliExit(EXIT.badInput, cmd ? `Unknown command "${cmd}". See: vecsnap --help` : HELP.main!);
  }
}

async function snapshotCommand(ctx: Context, sub: string | undefined): Promise<number> {
  const { api, args } = ctx;
  switch (sub) {
    case 'list': {
      const list = unwrap(await api.listSnapshots());
      print(ctx, list, () =>
        list.length === 0
          ? 'No snapshots.'
          : list
              .map((s) => `${s.id}  ${new Date(s.timestamp).toISOString()}  ${String(s.vectorCount).padStart(9)}  ${formatBytes(s.fileSize).padStart(9)}  ${s.format}${s.compressed ? `+${s.compression ?? 'gzip'}` : ''}  ${s.integrity?.state ?? 'unverified'}${s.pinned ? '  pinned' : ''}  ${s.name}`)
              .join('\n'),
      );
      return EXIT.ok;
    }
    case 'create': {
      const tags = stringOption(args, 'tags');
      const note = stringOption(args, 'note');
      const format = stringOption(args, 'format');
      const compression = stringOption(args, 'compression');
      const keep = integerOption(args, 'keep', 1, 100_000);
      const f = await runJob(
        ctx,
        api.createSnapshot({
          name: need(ctx, 2, 'a snapshot name'),
          ...(note ? { note } : {}),
          ...(tags ? { tags: tags.split(',') } : {}),
          ...(format ? { format: format as 'json' } : {}),
          ...(compression ? { compression: compression as 'none' } : {}),
          ...(keep !== undefined ? { keep } : {}),
        }),
      );
      const s = f.kind === 'snapshot-create' ? f.result! : undefined;
      print(ctx, s, () => `Created snapshot ${s!.id} "${s!.name}" (${s!.vectorCount} vectors, ${formatBytes(s!.fileSize)}, sha256 ${s!.checksum.slice(0, 12)}…)`);
      return EXIT.ok;
    }
    case 'restore': {
      const f = await runJob(ctx, api.restoreSnapshot({ id: need(ctx, 2, 'a snapshot id'), safetySnapshot: !args.options.has('no-safety') }));
      const r = f.kind === 'snapshot-restore' ? f.result! : undefined;
      print(ctx, r, () => `Restored "${r!.restored.name}"${r!.safetySnapshot ? `; the previous state is snapshot ${r!.safetySnapshot.id}` : ''}.`);
      return EXIT.ok;
    }
    case 'delete': {
      const id = need(ctx, 2, 'a snapshot id');
      const r = unwrap(await api.deleteSnapshot({ id, force: args.options.has('force') }));
      print(ctx, r, () => `Deleted snapshot ${id}.`);
      return EXIT.ok;
    }
    case 'verify': {
      const f = await runJob(ctx, api.verifySnapshot({ id: need(ctx, 2, 'a snapshot id') }));
      const r = f.kind === 'snapshot-verify' ? f.result! : undefined;
      print(ctx, r, () => r!.message);
      return r!.ok ? EXIT.ok : EXIT.integrity;
    }
    case 'pin': {
      const id = need(ctx, 2, 'a snapshot id');
      const s = unwrap(await api.pinSnapshot({ id, pinned: !args.options.has('off') }));
      print(ctx, s, () => `${s.pinned ? 'Pinned' : 'Unpinned'} snapshot ${id}.`);
      return EXIT.ok;
    }
    default:
      throw new CliExit(EXIT.badInput, `Unknown snapshot command "${sub ?? ''}". See: vecsnap --help`);
  }
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.options.has('help') || args.positionals.length === 0) {
    process.stdout.write((HELP[args.positionals[0] ?? ''] ?? HELP.main!) + '\n');
    return args.positionals.length === 0 && !args.options.has('help') ? EXIT.badInput : EXIT.ok;
  }
  const name = args.positionals[0]!;
  if (!Object.hasOwn(OPTIONS, name)) throw new CliExit(EXIT.badInput, `Unknown command "${name}". See: vecsnap --help`);
  const sub = name === 'snapshot' && args.positionals[1] !== undefined ? `snapshot ${args.positionals[1]}` : name;
  // An unknown snapshot subcommand is reported by the command itself, with the list of them.
  checkOptions(args, sub, OPTIONS[Object.hasOwn(OPTIONS, sub) ? sub : name]!);
  // A stray word (`import f.bin --clear false`) is refused rather than ignored.
  const most = POSITIONALS[sub];
  if (most !== undefined && args.positionals.length > most) {
    throw new CliExit(EXIT.badInput, `Unexpected argument "${args.positionals[most]}" for "${sub}". See: vecsnap ${name} --help`);
  }
  const dir = path.resolve(stringOption(args, 'dir') ?? defaultDataDir());
  if (name === 'serve') {
    const { startServer } = await import('../server/server.js');
    const port = integerOption(args, 'port', 0, 65_535);
    const running = await startServer({
      dataDir: dir,
      host: stringOption(args, 'host') ?? '127.0.0.1',
      ...(port !== undefined ? { port } : {}),
      staticDir: path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../renderer'),
    });
    process.stdout.write(`Open ${running.url}\n`);
    let stopping = false;
    // A second Ctrl-C while closing must not start a second close.
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      void running.close().then(() => process.exit(0), () => process.exit(EXIT.failure));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return new Promise(() => undefined);
  }
  const service = await createService({ dataDir: dir });
  const ctx: Context = {
    api: service.client('cli'),
    args,
    json: args.options.has('json'),
    quiet: args.options.has('quiet'),
    progress: new ProgressLine(process.stderr, process.stderr.isTTY === true && !args.options.has('json') && !args.options.has('quiet')),
  };
  try {
    return await command(ctx);
  } finally {
    // Saves what the command changed (import, sample) and waits for running work.
    await service.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = err instanceof CliExit ? err.code : err instanceof ArgsError ? EXIT.badInput : EXIT.failure;
    process.stderr.write(`vecsnap: ${(err as Error).message}\n`);
    process.exitCode = code;
  },
);
