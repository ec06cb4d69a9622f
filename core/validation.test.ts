import { describe, expect, it } from 'vitest';
import { cloneMetadata, firstNonFinite } from './validation.js';

describe('firstNonFinite', () => {
  it('finds the first NaN or ±Infinity at every position, in the 4-wide body and the tail', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const length of [1, 3, 4, 5, 11, 16]) {
        for (let at = 0; at < length; at++) {
          const v = new Float32Array(length).fill(0.5);
          v[at] = bad;
          if (at + 2 < length) v[at + 2] = NaN; // a later one must not win
          expect(firstNonFinite(v), `${bad} at ${at} of ${length}`).toBe(at);
        }
      }
    }
  });

  it('accepts every finite float32, -0 and the extremes included, and honours start/end', () => {
    const v = new Float32Array([-0, 0, 3.4028234663852886e38, -3.4028234663852886e38, 1.4e-45, -1.4e-45, 1e-40, 7]);
    expect(firstNonFinite(v)).toBe(-1);
    const w = new Float32Array([NaN, 1, 2, 3, 4, 5, Infinity, 7, 8]);
    expect(firstNonFinite(w, 1, 6)).toBe(-1);
    expect(firstNonFinite(w, 1)).toBe(6);
    expect(firstNonFinite(w, 0, 1)).toBe(0);
    expect(firstNonFinite(new Float32Array(0))).toBe(-1);
  });
});

describe('cloneMetadata of decoded values (owned)', () => {
  const code = (work: () => unknown): string | undefined => {
    try {
      work();
      return undefined;
    } catch (err) {
      return (err as { code?: string }).code;
    }
  };

  it('keeps the value and counts its size exactly as the copying walk does', () => {
    const samples = [
      { a: 1 },
      { s: 'ü東京😀', n: -1.5e-7, t: true, f: false, z: null, list: [1, 'x', [2, { deep: [] }], null], o: { p: { q: 'r' } } },
      { ['__proto__']: { x: 1 }, '': 0, k: [] },
      {},
    ];
    for (const sample of samples) {
      const decoded = JSON.parse(JSON.stringify(sample)) as Record<string, unknown>;
      const owned = cloneMetadata('id', decoded, true);
      expect(owned.value).toBe(decoded);
      expect(owned.approxBytes).toBe(cloneMetadata('id', sample, false).approxBytes);
    }
  });

  it('still rewrites -0, drops undefined members and refuses what the copying walk refuses', () => {
    const negZero = JSON.parse('{"a":-0,"b":[-0.0]}') as { a: number; b: number[] };
    const fixed = cloneMetadata('id', negZero, true).value as { a: number; b: number[] };
    expect(Object.is(fixed.a, 0) && Object.is(fixed.b[0], 0)).toBe(true);
    const holey: Record<string, unknown> = { a: 1, b: undefined };
    expect(Object.keys(cloneMetadata('id', holey, true).value)).toEqual(['a']);
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = [deep];
    for (const bad of [{ d: deep }, JSON.parse('{"s":"\\ud800"}'), { n: Infinity }, { d: new Date(0) }, { l: [undefined] }]) {
      expect(code(() => cloneMetadata('id', bad, true)), JSON.stringify(bad)?.slice(0, 40)).toBe('INVALID_METADATA');
    }
  });
});
