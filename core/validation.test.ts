import { describe, expect, it } from 'vitest';
import { firstNonFinite } from './validation.js';

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
