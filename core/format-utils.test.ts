import { describe, expect, it } from 'vitest';
import { estimateMemoryUsage, formatFileSize, formatTimestamp } from './format-utils.js';

describe("the original module's utilities", () => {
  it('formatFileSize: two decimals, 1024 steps, B KB MB GB TB', () => {
    expect(formatFileSize(0)).toBe('0.00 B');
    expect(formatFileSize(1023)).toBe('1023.00 B');
    expect(formatFileSize(1024)).toBe('1.00 KB');
    expect(formatFileSize(1536 * 1024)).toBe('1.50 MB');
    expect(formatFileSize(5 * 1024 ** 3)).toBe('5.00 GB');
    expect(formatFileSize(3 * 1024 ** 4)).toBe('3.00 TB');
    expect(formatFileSize(2048 * 1024 ** 4)).toBe('2048.00 TB');
  });

  it('formatTimestamp is ISO 8601', () => {
    expect(formatTimestamp(Date.UTC(2026, 10, 25, 12, 30))).toBe('2026-11-25T12:30:00.000Z');
  });

  it('estimateMemoryUsage accepts a DatabaseState-shaped object', () => {
    const state = {
      version: '1.0.0',
      options: { dimension: 4 },
      vectors: [
        { id: 'ab', vector: [1, 2, 3, 4], metadata: { k: 1 } },
        { id: 'c', vector: [1, 2, 3, 4] },
      ],
    };
    // 2×16 vector bytes + (2+1)×2 id bytes + '{"k":1}'.length×2
    expect(estimateMemoryUsage(state)).toBe(32 + 6 + 14);
    expect(estimateMemoryUsage({ stats: { count: 10, dimension: 8 } })).toBe(320);
  });
});
