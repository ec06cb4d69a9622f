import type { ProgressCallback, ProgressInfo } from '../types.js';

const MIN_INTERVAL_MS = 50; // SPEC §2: at most 20 calls a second

export interface ProgressUpdate {
  current: number;
  total: number;
  bytesDone?: number;
  bytesTotal?: number;
  phase?: string;
  message?: string;
}

/**
 * A running percentage, to one decimal. 100 is reserved for done(): work is not finished until
 * its last step (say, a rename) happened.
 */
function runningPercentage(fraction: number): number {
  return Math.min(99, Math.floor(fraction * 1000) / 10);
}

function runningMessage(operation: string, percentage: number): string {
  return `${operation}: ${percentage.toFixed(0)}%`;
}

/**
 * Throttles progress at the source: the first call and the final 100% always go through, the
 * rest at most every 50 ms, and the percentage never goes backwards. A throwing listener is
 * ignored — a progress bar must not be able to break a save.
 */
export class ProgressReporter {
  private lastEmit = 0;
  private lastPercentage = 0;
  private emitted = false;
  private finished = false;

  constructor(
    private readonly operation: string,
    private readonly listener: ProgressCallback | undefined,
  ) {}

  update(update: ProgressUpdate): void {
    if (!this.listener || this.finished) return;
    const now = Date.now();
    if (this.emitted && now - this.lastEmit < MIN_INTERVAL_MS) return;
    let fraction: number;
    if (update.bytesTotal && update.bytesTotal > 0 && update.bytesDone !== undefined) {
      fraction = update.bytesDone / update.bytesTotal;
    } else {
      fraction = update.total > 0 ? update.current / update.total : 0;
    }
    const percentage = Math.max(this.lastPercentage, runningPercentage(fraction));
    this.emit({
      operation: this.operation,
      percentage,
      current: update.current,
      total: update.total,
      message: update.message ?? runningMessage(this.operation, percentage),
      ...(update.bytesDone !== undefined ? { bytesDone: update.bytesDone } : {}),
      ...(update.bytesTotal !== undefined ? { bytesTotal: update.bytesTotal } : {}),
      ...(update.phase !== undefined ? { phase: update.phase } : {}),
    });
    this.lastEmit = now;
  }

  done(message: string, final: Partial<ProgressUpdate> = {}): void {
    if (!this.listener || this.finished) return;
    this.finished = true;
    const total = final.total ?? final.current ?? 0;
    this.emit({
      operation: this.operation,
      percentage: 100,
      current: final.current ?? total,
      total,
      message,
      ...(final.bytesDone !== undefined ? { bytesDone: final.bytesDone } : {}),
      ...(final.bytesTotal !== undefined ? { bytesTotal: final.bytesTotal } : {}),
      phase: 'done',
    });
  }

  private emit(info: ProgressInfo): void {
    this.emitted = true;
    this.lastPercentage = info.percentage;
    try {
      this.listener?.(info);
    } catch {
      // deliberately ignored, see class comment
    }
  }
}

/**
 * Progress of work that may run a second pass after a first one gave up (the JSON text compare,
 * then the ordinary compare): the second pass fills what the first left, so the bar never goes
 * back to 0. Byte counts add up over both passes.
 */
export function twoPassProgress(listener: ProgressCallback | undefined): { first?: ProgressCallback; second?: ProgressCallback } {
  if (!listener) return {};
  let last: ProgressInfo | undefined;
  return {
    first: (info) => {
      last = info;
      listener(info);
    },
    second: (info) => {
      if (!last || last.percentage <= 0) {
        listener(info);
        return;
      }
      const finished = info.percentage >= 100;
      const before = Math.min(last.percentage, 99) / 100;
      const percentage = finished ? 100 : runningPercentage(before + ((1 - before) * info.percentage) / 100);
      const total = last.total + info.total;
      const bytesTotal = info.bytesTotal === undefined ? undefined : (last.bytesTotal ?? 0) + info.bytesTotal;
      // The first pass's last report may lag its end (reports are throttled); done means all done.
      listener({
        ...info,
        percentage,
        message: finished ? info.message : runningMessage(info.operation, percentage),
        current: finished ? total : last.current + info.current,
        total,
        ...(info.bytesDone !== undefined ? { bytesDone: finished && bytesTotal !== undefined ? bytesTotal : (last.bytesDone ?? 0) + info.bytesDone } : {}),
        ...(bytesTotal !== undefined ? { bytesTotal } : {}),
      });
    },
  };
}
