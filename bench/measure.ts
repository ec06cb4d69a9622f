import { monitorEventLoopDelay } from 'node:perf_hooks';
import { replacedFilesFreed } from '../core/io/atomic-write.js';

export interface Measurement {
  seconds: number;
  /** Highest RSS seen while the operation ran, in bytes. */
  peakRss: number;
  /** Longest time the event loop could not run, in ms. */
  maxStallMs: number;
  /** RSS just before the operation, and after it once garbage is collected. */
  rssBefore: number;
  rssAfter: number;
}

/**
 * Waits until the files the last operation replaced are freed (atomic-write.ts frees them after
 * the operation, and that work must not land in the next timed thing), collects garbage, then
 * waits 50 ms: how every timed thing starts (an operation, or a pass its limit is made of). The
 * forced collection leaves work behind (V8 sweeps on a background thread) that, on two cores,
 * slowed what ran right after it: an incremental save started at once took 20–24 ms, one started
 * 20 ms later 16–18 ms, one with no forced collection and no wait 14–18 ms. The bench's own
 * collection is not the operation's cost. The wait also separates the operation from medianOf's
 * `before` (for incremental saves, a full save and the change).
 */
export async function settle(): Promise<void> {
  await replacedFilesFreed();
  global.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * Runs `op` once while sampling RSS every 5 ms and the event loop's delay — a stall shows as a
 * long gap between samples, so both probes are on the same timer.
 */
export async function measure(op: () => Promise<unknown>): Promise<Measurement> {
  await settle();
  const rssBefore = process.memoryUsage.rss();
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let peakRss = process.memoryUsage.rss();
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 5);
  const start = performance.now();
  try {
    await op();
  } finally {
    clearInterval(timer);
    histogram.disable();
  }
  const seconds = (performance.now() - start) / 1000;
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  // The interval's own 5 ms period is not a stall.
  const maxStallMs = Math.max(0, Math.max(maxGap, histogram.max / 1e6) - 5);
  global.gc?.();
  return { seconds, peakRss, maxStallMs, rssBefore, rssAfter: process.memoryUsage.rss() };
}

/**
 * Median by time of `runs` measurements; the stall is the worst seen, and memory is the run that
 * rose furthest above its own starting point (later runs may reuse pages an earlier one left).
 */
export async function medianOf(runs: number, op: () => Promise<unknown>, before?: () => Promise<void>, after?: () => Promise<void>): Promise<Measurement> {
  const results: Measurement[] = [];
  for (let i = 0; i < runs; i++) {
    await before?.();
    results.push(await measure(op));
    await after?.();
  }
  const worst = results.reduce((a, b) => (b.peakRss - b.rssBefore > a.peakRss - a.rssBefore ? b : a));
  results.sort((a, b) => a.seconds - b.seconds);
  const median = results[Math.floor(results.length / 2)]!;
  return {
    seconds: median.seconds,
    peakRss: worst.peakRss,
    rssBefore: worst.rssBefore,
    rssAfter: worst.rssAfter,
    maxStallMs: Math.max(...results.map((r) => r.maxStallMs)),
  };
}
