import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crashHashThreadForTest, createStreamSha256, hashThreadState } from './sha256-thread.js';
import { hashableFloat32Array, queuedReads } from './shared-bytes.js';

const SLOT = 4 * 1024 * 1024;
const reference = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('createStreamSha256', () => {
  it('equals a one-shot SHA-256 for sizes around the staging slots, fed in uneven pieces', () => {
    for (const size of [0, 1, SLOT - 1, SLOT, SLOT + 1, 3 * SLOT, 3 * SLOT + 7, 7 * SLOT + 12_345]) {
      const bytes = randomBytes(size);
      for (const piece of [65_536, 1_000_003]) {
        const h = createStreamSha256();
        for (let off = 0; off < size; off += piece) h.update(bytes.subarray(off, off + piece));
        expect(h.digest(), `${size}/${piece}`).toBe(reference(bytes));
      }
    }
  });

  it('keeps interleaved streams apart and reuses nothing across them', () => {
    const a = randomBytes(5 * SLOT + 3);
    const b = randomBytes(4 * SLOT + 11);
    const ha = createStreamSha256();
    const hb = createStreamSha256();
    const piece = 777_777;
    for (let off = 0; off < Math.max(a.length, b.length); off += piece) {
      if (off < a.length) ha.update(a.subarray(off, off + piece));
      if (off < b.length) hb.update(b.subarray(off, off + piece));
    }
    expect(hb.digest()).toBe(reference(b));
    expect(ha.digest()).toBe(reference(a));
  });

  it('hashes a Float32Array view (what the content digest feeds it) byte for byte', () => {
    const f = new Float32Array(2_000_000);
    for (let i = 0; i < f.length; i++) f[i] = Math.sin(i) * 1e-3;
    const view = new Uint8Array(f.buffer, 4, f.byteLength - 8);
    const h = createStreamSha256();
    h.update(view);
    expect(h.digest()).toBe(reference(view));
  });

  it('refuses a second digest instead of returning a wrong one', () => {
    const h = createStreamSha256();
    h.update(randomBytes(SLOT + 1));
    h.digest();
    expect(() => h.digest()).toThrow(expect.objectContaining({ code: 'IO_ERROR' }));
  });

  it('an abandoned stream does not disturb the next ones', () => {
    const dropped = createStreamSha256();
    dropped.update(randomBytes(2 * SLOT));
    const bytes = randomBytes(2 * SLOT + 5);
    const h = createStreamSha256();
    h.update(bytes);
    expect(h.digest()).toBe(reference(bytes));
  });
});

describe('createStreamSha256: memory read in place', () => {
  const bytesOf = (f: Float32Array): Uint8Array => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  const filled = (length: number, seed: number): Float32Array => {
    const f = hashableFloat32Array(length);
    for (let i = 0; i < f.length; i++) f[i] = Math.sin(i * seed);
    return f;
  };

  it('hashes shared memory where it lies, in order with staged pieces, and counts its queued reads back to 0', () => {
    const a = filled(300_000, 1); // 1.2 MB
    const b = filled(16_384, 3); // 64 KiB, the smallest read in place
    const pieces = [randomBytes(1000), bytesOf(a), randomBytes(SLOT + 5), bytesOf(b), bytesOf(a).subarray(4, 100_004), randomBytes(7)];
    const before = hashThreadState().inPlaceUpdates;
    const h = createStreamSha256();
    for (const p of pieces) h.update(p);
    expect(h.digest()).toBe(reference(Buffer.concat(pieces)));
    expect(hashThreadState().inPlaceUpdates - before).toBe(3);
    expect(Atomics.load(queuedReads(a)!, 0)).toBe(0);
    expect(Atomics.load(queuedReads(b)!, 0)).toBe(0);
  });

  it('copies pieces under 64 KiB even of shared memory', () => {
    const a = filled(16_383, 5);
    const before = hashThreadState().inPlaceUpdates;
    const h = createStreamSha256();
    h.update(bytesOf(a));
    expect(h.digest()).toBe(reference(bytesOf(a)));
    expect(hashThreadState().inPlaceUpdates).toBe(before);
  });

  it('hashes shared memory on this thread when no hashing thread may run', () => {
    const a = filled(500_000, 7);
    const staged = randomBytes(SLOT - 3);
    process.env.VECSNAP_HASH_THREAD = '0';
    try {
      const before = hashThreadState().inPlaceUpdates;
      const h = createStreamSha256();
      h.update(staged);
      h.update(bytesOf(a));
      h.update(staged);
      expect(h.digest()).toBe(reference(Buffer.concat([staged, bytesOf(a), staged])));
      expect(hashThreadState().inPlaceUpdates).toBe(before);
    } finally {
      delete process.env.VECSNAP_HASH_THREAD;
    }
  });
});

describe('createStreamSha256: memory and failures', () => {
  it('reuses its staging lanes: a hundred long streams in a row allocate one', () => {
    const bytes = randomBytes(2 * SLOT + 99);
    const before = hashThreadState().lanes;
    for (let i = 0; i < 100; i++) {
      const h = createStreamSha256();
      h.update(bytes);
      expect(h.digest()).toBe(reference(bytes));
    }
    expect(hashThreadState().lanes - before).toBeLessThanOrEqual(1);
  });

  it('refuses an update after the digest was read', () => {
    const h = createStreamSha256();
    h.update(randomBytes(10));
    h.digest();
    expect(() => h.update(randomBytes(10))).toThrow(expect.objectContaining({ code: 'IO_ERROR' }));
  });

  // Last in this file: the crashed thread is not replaced, later hashes run inline.
  it('a crashed hashing thread fails the stream in progress within a poll, with IO_ERROR, and later streams hash inline', () => {
    const h = createStreamSha256();
    h.update(randomBytes(SLOT + 1)); // one slot handed to the thread
    expect(hashThreadState().running).toBe(true);
    crashHashThreadForTest();
    const started = performance.now();
    expect(() => {
      h.update(randomBytes(3 * SLOT));
      h.digest();
    }).toThrow(expect.objectContaining({ code: 'IO_ERROR' }));
    expect(performance.now() - started).toBeLessThan(2_000);
    const bytes = randomBytes(3 * SLOT + 1);
    const after = createStreamSha256();
    after.update(bytes);
    expect(after.digest()).toBe(reference(bytes));
  });
});
