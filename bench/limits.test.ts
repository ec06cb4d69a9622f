import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { measureCodecRates, median, openCodecProbe, openRawProbe } from './limits.js';

describe('median', () => {
  it('takes the middle value of an odd count and the mean of the two middle ones of an even count', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });
});

describe('openCodecProbe', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vecsnap-probe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('samples at most 32 MiB from the start of the file', async () => {
    const small = path.join(dir, 'small.bin');
    writeFileSync(small, Buffer.alloc(1000, 7));
    expect((await openCodecProbe(small)).sampleBytes).toBe(1000);
    const big = path.join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc((32 << 20) + 4096, 1));
    expect((await openCodecProbe(big)).sampleBytes).toBe(32 << 20);
  });

  it('times each zlib pass as a finite positive rate, inflating faster than deflating', async () => {
    const file = path.join(dir, 'noise.bin');
    const noise = Buffer.alloc(4 << 20);
    let s = 1;
    for (let i = 0; i < noise.length; i += 4) noise.writeUInt32LE((s = (Math.imul(s, 1103515245) + 12345) >>> 0), i);
    writeFileSync(file, noise);
    const probe = await openCodecProbe(file);
    const rates = await measureCodecRates(probe, 3);
    for (const kind of ['gzip', 'brotli', 'gunzip', 'unbrotli'] as const) {
      expect(Number.isFinite(rates[kind])).toBe(true);
      expect(rates[kind]).toBeGreaterThan(0);
    }
    // Inflating is far cheaper than deflating the same bytes; a probe timing the wrong pass would not show it.
    expect(rates.gunzip).toBeGreaterThan(rates.gzip);
  });
});

describe('openRawProbe', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vecsnap-raw-probe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the vectors\' own bytes, then times reading and hashing them', async () => {
    const vectors = Float32Array.from({ length: 1 << 16 }, (_, i) => Math.sin(i) * 1e3);
    const probe = openRawProbe(dir, vectors);
    expect(probe.bytes).toBe(vectors.byteLength);
    const passes = [await probe.write(), await probe.read(), await probe.sha256()];
    expect(readFileSync(probe.file).equals(Buffer.from(vectors.buffer))).toBe(true);
    for (const seconds of passes) {
      expect(Number.isFinite(seconds)).toBe(true);
      expect(seconds).toBeGreaterThan(0);
    }
  });

  it('fails a read pass when the file is not the vectors\' length', async () => {
    const probe = openRawProbe(dir, new Float32Array(1024));
    writeFileSync(probe.file, Buffer.alloc(100));
    await expect(probe.read()).rejects.toThrow('short read');
  });
});
