import type { ErrorCode, JobProgress } from '../core/service/contract.js';

/** Exit codes scripts can branch on. */
export const EXIT = {
  ok: 0,
  failure: 1,
  badInput: 2,
  integrity: 3,
  io: 4,
  aborted: 130,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'CHECKSUM_MISMATCH':
    case 'CORRUPT_FILE':
      return EXIT.integrity;
    case 'IO_ERROR':
    case 'NO_SPACE':
    case 'BUSY':
      return EXIT.io;
    case 'ABORTED':
      return EXIT.aborted;
    default:
      return EXIT.badInput;
  }
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];
function human(bytes: number): string {
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${UNITS[u]}`;
}

/** A one-line progress bar on stderr, redrawn in place; only on a TTY. */
export class ProgressLine {
  private shown = false;
  constructor(private readonly stream: NodeJS.WriteStream, private readonly enabled: boolean) {}

  update(p: JobProgress): void {
    if (!this.enabled) return;
    const width = 28;
    const filled = Math.round((p.percentage / 100) * width);
    const rate =
      p.throughput === undefined ? '' : p.throughputUnit === 'B/s' ? ` ${human(p.throughput)}/s` : ` ${Math.round(p.throughput)} items/s`;
    const eta = p.etaMs === undefined ? '' : ` ~${Math.ceil(p.etaMs / 1000)} s left`;
    this.stream.write(`\r${p.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.percentage.toFixed(0).padStart(3)}%${rate}${eta}\x1b[K`);
    this.shown = true;
  }

  end(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}

export { human as formatBytes };
