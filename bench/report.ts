import type { MachineLimits } from './limits.js';

export interface Row {
  workload: string;
  operation: string;
  format: string;
  compression: string;
  /** Raw float32 bytes of the database (what MB/s is counted over). */
  rawBytes: number;
  dbBytes: number;
  seconds: number;
  /** What the machine's limits allow for the same work (see the notes). */
  limitSeconds: number;
  /** Allowed ratio seconds / limitSeconds. */
  target: number;
  peakRss: number;
  rssBefore: number;
  /** RSS after the operation, garbage collected. */
  rssAfter: number;
  /** For loads: the size of the database the operation builds (its stats().memoryBytes). */
  builtBytes?: number;
  maxStallMs: number;
  /** SPEC §7's stall limit where it applies (the 100k workload). */
  stallLimitMs?: number;
  original?: number | undefined;
  naive?: number;
  /** For targets in seconds rather than ratios (compare < 2 s). */
  absoluteTarget?: number;
  /**
   * The passes the limit is made of (write, read, sha256, gzip, brotli, gunzip, unbrotli), in
   * seconds for the row's whole data, timed right before and right after each run, in that order
   * (the quick run: before only);
   * the limit uses each pass's median.
   */
  limitPasses?: Record<string, number[]>;
}

const MiB = 2 ** 20;

/** SPEC §7: peak memory ≤ the database's own size + 128 MiB. */
const MEMORY_HEADROOM_MIB = 128;
/**
 * SPEC §7 sets the memory target for save and load; these are the saves and loads under other
 * names. Compare and verify are neither; their peaks are shown without a verdict.
 */
const MEMORY_TARGETED = new Set(['save', 'load', 'snapshot create', 'restore', 'export', 'import', 'incremental']);

/**
 * Peak RSS above where the process stood before the operation, less what the operation is meant
 * to add: nothing for a save; for a load, the loaded database's own size (VectorDB.stats()). The
 * process keeps freed pages, so memory released by earlier operations and reused here is not
 * counted: a lower bound of the true transient need, not an exact figure.
 */
export function peakOverDbMiB(r: Row): number {
  return (r.peakRss - r.rssBefore - (r.builtBytes ?? 0)) / MiB;
}

/**
 * SPEC §7: the original design document estimated 3 s (binary save), 6 s (load) and 1 s
 * (incremental) at 100k, and VecSnap must beat those by 10×. They were estimates for its binary
 * format, so the binary rows are held to it; the other formats' speed-ups are shown only.
 */
export const ORIGINAL_SPEEDUP_TARGET = 10;

export function beatsOriginal(r: Row): boolean | undefined {
  if (r.original === undefined || r.format !== 'binary' || r.compression !== 'none') return undefined;
  return r.original / r.seconds >= ORIGINAL_SPEEDUP_TARGET;
}

export function verdict(r: Row): string {
  const ratio = r.seconds / r.limitSeconds;
  const missed: string[] = [];
  if (r.absoluteTarget !== undefined ? r.seconds >= r.absoluteTarget : ratio > r.target) missed.push('time');
  if (beatsOriginal(r) === false) missed.push(`${ORIGINAL_SPEEDUP_TARGET}× the original estimate`);
  if (MEMORY_TARGETED.has(r.operation.replace(/ \d+%$/, '')) && peakOverDbMiB(r) > MEMORY_HEADROOM_MIB) missed.push('memory');
  if (r.stallLimitMs !== undefined && r.maxStallMs > r.stallLimitMs) missed.push('stall');
  return missed.length === 0 ? 'met' : `MISSED (${missed.join(', ')})`;
}

function speedup(theirs: number, ours: number): string {
  return theirs >= ours ? `${(theirs / ours).toFixed(1)}× faster` : `${(ours / theirs).toFixed(1)}× slower`;
}

function cells(r: Row): string[] {
  const ratio = r.seconds / r.limitSeconds;
  const extraRss = Math.max(0, peakOverDbMiB(r)).toFixed(0);
  return [
    r.workload,
    r.operation,
    r.format,
    r.compression,
    ((r.rawBytes / MiB) / r.seconds).toFixed(0),
    r.seconds.toFixed(3),
    r.absoluteTarget !== undefined ? `< ${r.absoluteTarget} s` : `${ratio.toFixed(2)}× (≤ ${r.target.toFixed(2)}×)`,
    verdict(r),
    extraRss,
    r.maxStallMs.toFixed(0),
    r.original !== undefined ? `${speedup(r.original, r.seconds)}${beatsOriginal(r) !== undefined ? ` (target ≥ ${ORIGINAL_SPEEDUP_TARGET}×)` : ''}` : '',
    r.naive !== undefined && Number.isFinite(r.naive) ? speedup(r.naive, r.seconds) : '',
  ];
}

function fmtRates(formats: MachineLimits['formats']): string {
  if (!formats) return '';
  return Object.entries(formats)
    .map(([f, { size, rates }]) => `${f} file ${(size / MiB).toFixed(0)} MiB: gzip ${(rates.gzip / MiB).toFixed(0)} / gunzip ${(rates.gunzip / MiB).toFixed(0)} MB/s, brotli ${(rates.brotli / MiB).toFixed(0)} / unbrotli ${(rates.unbrotli / MiB).toFixed(0)} MB/s`)
    .join('; ');
}

const HEADER = ['workload', 'operation', 'format', 'compr.', 'MB/s', 'seconds', 'ratio to limit (target)', 'target', 'peak RSS over DB MiB (≤ 128)', 'max stall ms', 'vs original estimate', 'vs JSON.stringify'];

function limitLines(limits: Record<string, MachineLimits>): string[] {
  return Object.entries(limits).map(
    ([w, l]) =>
      `${w}: write+fsync ${(l.writeFsync / MiB).toFixed(0)} MB/s${l.writeFsyncNewFile ? ` (of new files that are kept ${(l.writeFsyncNewFile / MiB).toFixed(0)} MB/s)` : ''}, read into memory ${(l.read / MiB).toFixed(0)} MB/s${l.readCached ? ` (through one reused buffer ${(l.readCached / MiB).toFixed(0)} MB/s)` : ''}, SHA-256 ${(l.sha256 / MiB).toFixed(0)} MB/s, gzip ${(l.gzip / MiB).toFixed(0)} MB/s, brotli q4 ${(l.brotli / MiB).toFixed(0)} MB/s, JSON.stringify+writeFile ${Number.isFinite(l.naiveJsonSave) ? `${l.naiveJsonSave.toFixed(2)} s${l.naiveJsonHow ? ` (${l.naiveJsonHow})` : ''}` : 'failed'}` +
      (l.formats ? `\n    zlib on each format's uncompressed file (single stream): ${fmtRates(l.formats)}` : ''),
  );
}

export function renderTable(rows: Row[], limits: Record<string, MachineLimits>): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const lines = table.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return ['Machine limits (measured once per workload; each row\'s limit is timed around its own runs):', ...limitLines(limits).map((l) => '  ' + l), '', ...lines].join('\n');
}

export function renderMarkdown(rows: Row[], limits: Record<string, MachineLimits>, machine: Record<string, unknown>): string {
  const head = `| ${HEADER.join(' | ')} |\n|${HEADER.map(() => '---').join('|')}|`;
  const body = rows.map((r) => `| ${cells(r).join(' | ')} |`).join('\n');
  return `# Benchmarks

Latest full run of \`npm run bench\` (SPEC §7). Ratios compare each operation with what this
machine physically does with the same bytes, measured in the same run:
- uncompressed saves (and snapshot create, export) against raw write+fsync plus SHA-256 of the
  float32 data, where the write rewrites one file and so reuses the page cache's just-freed
  pages; writing new files that are kept, as snapshot create and export do, is shown beside it
  (on a VM that returns freed memory to its host it can be several times slower; the engine's
  writes drop pages already written back, "dropBehind" in the machine line, so the rest of the
  file reuses them); loads (and restore, import) against raw read plus SHA-256, where the read is
  \`fs.readFile\` of the raw bytes: a load must put every byte into fresh memory, and the page
  faults of that can cost more than the read itself on a virtual machine (SPEC §7's "0.5 GB/s
  read" is this figure; reading through one reused buffer only measures the page cache's copy).
  The engine's vector storage asks for huge pages, "hugePages" in the machine line, so it faults
  once per 2 MiB where \`fs.readFile\`'s buffer faults once per 4 KiB;
- compressed saves against zlib compressing that format's own uncompressed file in one stream
  (target 1.3×, SPEC §7). JSON text is about three times the float32 bytes and compresses at a
  different rate, so each format is measured on its own bytes: zlib's rate on a 32 MiB sample of
  that file, times the file's size;
- compressed loads (SPEC §7 sets no target): the format's own load budget plus 1.3× zlib's
  decompression of the same bytes, shown as one limit and the blended target;
- verify against SHA-256 of the snapshot file; incremental saves against the full binary save.

The passes a limit is made of (write, read, SHA-256, zlib) drift on this VM by a third within
minutes and between runs, while the operations drift with them. So each pass is timed right
before and right after every run of the row's operation, and the row's limit uses each pass's
median (results JSON: \`limitPasses\`, seconds per pass). The limit lines below were measured
once at the start of each workload: reference figures, not what the rows are divided by.

"peak RSS over DB" is the highest resident memory during the operation above what the process held
before it, less the size of the database a load builds (VectorDB's own estimate); the target is
128 MiB for saves and loads (save, snapshot create, export, incremental; load, restore, import).
Compare holds one whole snapshot in memory by design and has no memory target. The process keeps
pages it freed earlier and reuses them, so these figures are lower bounds. "max stall" is the
event loop's longest pause; over 100 ms misses on the 100k workload (SPEC §7 sets no stall target
at 1M). A row is "met" only when time, memory and stall all are. MB/s is counted over the raw
float32 bytes. Compare's target is SPEC's 2 s for two 100k snapshots, scaled by entry count
elsewhere. "vs original estimate" compares with the original design document's estimates at
100k (3 s save, 6 s load, 1 s incremental); SPEC §7 asks for 10× faster, which the binary rows
are held to (missing it misses the row). "vs JSON.stringify" compares with \`JSON.stringify\` +
\`fs.writeFile\` of the same vectors, what a user would write by hand.

Machine: ${JSON.stringify(machine)}

${limitLines(limits).map((l) => `- ${l}`).join('\n')}

${head}
${body}
`;
}
