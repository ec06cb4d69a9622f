import { describe, expect, it } from 'vitest';
import { beatsOriginal, peakOverDbMiB, renderMarkdown, verdict, type Row } from './report.js';

const MiB = 2 ** 20;

function row(overrides: Partial<Row>): Row {
  return {
    workload: '100,000 × 384',
    operation: 'save',
    format: 'binary',
    compression: 'none',
    rawBytes: 153_600_000,
    dbBytes: 153_600_000,
    seconds: 0.25,
    limitSeconds: 0.3,
    target: 2,
    peakRss: 800 * MiB,
    rssBefore: 750 * MiB,
    rssAfter: 750 * MiB,
    maxStallMs: 20,
    stallLimitMs: 100,
    original: 3,
    ...overrides,
  };
}

describe('verdict', () => {
  it('meets a row within time, memory and stall', () => {
    expect(verdict(row({}))).toBe('met');
  });

  it('names each target a row misses', () => {
    expect(verdict(row({ seconds: 0.7 }))).toBe('MISSED (time, 10× the original estimate)');
    expect(verdict(row({ original: undefined, seconds: 0.7 }))).toBe('MISSED (time)');
    expect(verdict(row({ peakRss: 750 * MiB + 129 * MiB }))).toBe('MISSED (memory)');
    expect(verdict(row({ maxStallMs: 101 }))).toBe('MISSED (stall)');
  });

  it('holds binary rows to 10× the original estimate, at exactly 10× still met', () => {
    expect(beatsOriginal(row({ seconds: 0.3 }))).toBe(true);
    expect(verdict(row({ seconds: 0.3 }))).toBe('met');
    expect(beatsOriginal(row({ seconds: 0.301 }))).toBe(false);
    expect(verdict(row({ seconds: 0.301, limitSeconds: 0.301 }))).toBe('MISSED (10× the original estimate)');
  });

  it('shows the other formats and compressed rows against the estimate without a verdict', () => {
    expect(beatsOriginal(row({ format: 'json', seconds: 2.5, limitSeconds: 0.3, target: 15 }))).toBeUndefined();
    expect(verdict(row({ format: 'json', seconds: 2.5, limitSeconds: 0.3, target: 15 }))).toBe('met');
    expect(beatsOriginal(row({ compression: 'gzip', seconds: 2, limitSeconds: 4, target: 1.3 }))).toBeUndefined();
  });

  it('subtracts what a load builds from its memory, and leaves compare without a memory verdict', () => {
    const load = row({ operation: 'load', original: 6, seconds: 0.4, peakRss: 750 * MiB + 300 * MiB, builtBytes: 200 * MiB });
    expect(peakOverDbMiB(load)).toBe(100);
    expect(verdict(load)).toBe('met');
    expect(verdict(row({ operation: 'compare', original: undefined, seconds: 1, absoluteTarget: 2, peakRss: 750 * MiB + 400 * MiB }))).toBe('met');
    expect(verdict(row({ operation: 'compare', original: undefined, seconds: 2, absoluteTarget: 2 }))).toBe('MISSED (time)');
  });
});

describe('renderMarkdown', () => {
  it('marks the speed-up against the estimate with its target on binary rows only', () => {
    const md = renderMarkdown([row({}), row({ format: 'json', seconds: 2.5, target: 15 })], {}, { cpu: 'test' });
    const lines = md.split('\n').filter((l) => l.startsWith('| 100,000'));
    expect(lines[0]).toContain('12.0× faster (target ≥ 10×)');
    expect(lines[1]).toContain('1.2× faster |');
    expect(lines[1]).not.toContain('target ≥ 10×');
  });
});
