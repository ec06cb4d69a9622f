import { describe, expect, it } from 'vitest';
import type { ProgressInfo } from '../types.js';
import { twoPassProgress } from './progress.js';

const info = (percentage: number, current: number, total: number): ProgressInfo => ({
  operation: 'compare',
  percentage,
  current,
  total,
  message: `compare: ${percentage}%`,
  bytesDone: current,
  bytesTotal: total,
  phase: percentage === 100 ? 'done' : 'comparing',
});

describe('twoPassProgress', () => {
  it('passes a first pass through, and fills what it left with the second', () => {
    const seen: ProgressInfo[] = [];
    const { first, second } = twoPassProgress((p) => seen.push(p));
    first!(info(10, 100, 1000));
    first!(info(80, 800, 1000));
    second!(info(0, 0, 1000));
    second!(info(50, 500, 1000));
    second!(info(100, 1000, 1000));
    expect(seen.map((p) => p.percentage)).toEqual([10, 80, 80, 90, 100]);
    expect(seen.map((p) => [p.current, p.total, p.bytesDone, p.bytesTotal])).toEqual([
      [100, 1000, 100, 1000],
      [800, 1000, 800, 1000],
      [800, 2000, 800, 2000],
      [1300, 2000, 1300, 2000],
      [2000, 2000, 2000, 2000],
    ]);
    expect(seen[3]!.message).toBe('compare: 90%');
  });

  it('is the listener itself when the first pass reported nothing, and nothing without a listener', () => {
    const seen: ProgressInfo[] = [];
    const { second } = twoPassProgress((p) => seen.push(p));
    second!(info(40, 400, 1000));
    expect(seen).toEqual([info(40, 400, 1000)]);
    expect(twoPassProgress(undefined)).toEqual({});
  });
});
