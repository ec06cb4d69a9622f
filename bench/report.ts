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
  rssBefore?: number;
  maxStallMs: number;
  original?: number | undefined;
  naive?: number;
  /** For targets in seconds rather than ratios (compare < 2 s). */
  absoluteTarget?: number;
}

const MiB = 2 ** 20;

function verdict(r: Row): string {
  const ratio = r.seconds / r.limitSeconds;
  const ok = r.absoluteTarget !== undefined ? r.seconds < r.absoluteTarget : ratio <= r.target;
  return ok ? 'met' : 'MISSED';
}

function cells(r: Row): string[] {
  const ratio = r.seconds / r.limitSeconds;
  const extraRss = r.rssBefore !== undefined ? `${((r.peakRss - r.rssBefore) / MiB).toFixed(0)}` : '';
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
    r.original !== undefined ? `${(r.original / r.seconds).toFixed(0)}× faster` : '',
    r.naive !== undefined && Number.isFinite(r.naive) ? `${(r.naive / r.seconds).toFixed(1)}×` : '',
  ];
}

const HEADER = ['workload', 'operation', 'format', 'compr.', 'MB/s', 'seconds', 'ratio to limit (target)', 'target', 'extra RSS MiB', 'max stall ms', 'vs original estimate', 'vs JSON.stringify'];

function limitLines(limits: Record<string, MachineLimits>): string[] {
  return Object.entries(limits).map(
    ([w, l]) =>
      `${w}: write+fsync ${(l.writeFsync / MiB).toFixed(0)} MB/s, read ${(l.read / MiB).toFixed(0)} MB/s, SHA-256 ${(l.sha256 / MiB).toFixed(0)} MB/s, gzip ${(l.gzip / MiB).toFixed(0)} MB/s, brotli q4 ${(l.brotli / MiB).toFixed(0)} MB/s, JSON.stringify+writeFile ${Number.isFinite(l.naiveJsonSave) ? l.naiveJsonSave.toFixed(2) + ' s' : 'failed (string too long)'}`,
  );
}

export function renderTable(rows: Row[], limits: Record<string, MachineLimits>): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const lines = table.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return ['Machine limits (same run):', ...limitLines(limits).map((l) => '  ' + l), '', ...lines].join('\n');
}

export function renderMarkdown(rows: Row[], limits: Record<string, MachineLimits>, machine: Record<string, unknown>): string {
  const head = `| ${HEADER.join(' | ')} |\n|${HEADER.map(() => '---').join('|')}|`;
  const body = rows.map((r) => `| ${cells(r).join(' | ')} |`).join('\n');
  return `# Benchmarks

Latest full run of \`npm run bench\` (SPEC §7). Ratios compare each operation with what this
machine physically does with the same bytes, measured in the same run: saves against raw
write+fsync plus SHA-256 of the float32 data, loads against raw read plus SHA-256, compressed
operations against zlib's own single-stream rate, verify against SHA-256 of the snapshot file.
"extra RSS" is the peak resident memory during the operation above what the process held before
it. MB/s is counted over the raw float32 bytes.

Machine: ${JSON.stringify(machine)}

${limitLines(limits).map((l) => `- ${l}`).join('\n')}

${head}
${body}
`;
}
