import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { createDecompressor } from './compression.js';
import { GZIP_BLOCK_BYTES, ParallelGzip } from './parallel-gzip.js';

const dir = mkdtempSync(join(tmpdir(), 'vecsnap-pgzip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Feeds `input` in pieces of `piece` bytes (so blocks straddle writes) and collects the output. */
async function compress(input: Buffer, piece: number, options?: ConstructorParameters<typeof ParallelGzip>[0]): Promise<Buffer> {
  const parts: Buffer[] = [];
  async function* pieces(): AsyncGenerator<Buffer> {
    for (let off = 0; off < input.length; off += piece) yield input.subarray(off, off + piece);
  }
  await pipeline(
    Readable.from(pieces(), { objectMode: false }),
    new ParallelGzip(options),
    new Writable({
      write(chunk: Buffer, _enc, done) {
        parts.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(parts);
}

/** Compressible but not trivial: float32 values as a vector database holds them. */
function floatBytes(n: number): Buffer {
  const f = new Float32Array(Math.ceil(n / 4));
  for (let i = 0; i < f.length; i++) f[i] = Math.sin(i * 0.37) * 0.25;
  return Buffer.from(f.buffer, 0, n);
}

describe('ParallelGzip', () => {
  it('writes members in input order, decodable by zlib as one stream', async () => {
    for (const [size, block, piece] of [
      [0, 1000, 7],
      [1, 1000, 7],
      [1000, 1000, 333],
      [1001, 1000, 333],
      [25_017, 1000, 977],
      [25_017, 4096, 25_017],
    ] as const) {
      const input = randomBytes(size);
      const out = await compress(input, piece, { blockBytes: block, concurrency: 3 });
      expect(zlib.gunzipSync(out).equals(input), `${size}/${block}/${piece}`).toBe(true);
    }
  });

  it('is read back by the engine’s own decompressor and by GNU gzip', async () => {
    const input = floatBytes(GZIP_BLOCK_BYTES * 2 + 12_345);
    const out = await compress(input, 1 << 20);
    // Three members: a gzip header starts each one.
    let members = 0;
    for (let i = 0; i + 2 < out.length; i++) if (out[i] === 0x1f && out[i + 1] === 0x8b && out[i + 2] === 8) members++;
    expect(members).toBeGreaterThanOrEqual(3);
    const parts: Buffer[] = [];
    await pipeline(Readable.from([out]), createDecompressor('gzip')!, new Writable({ write(c: Buffer, _e, d) { parts.push(c); d(); } }));
    expect(Buffer.concat(parts).equals(input)).toBe(true);
    const file = join(dir, 'data.gz');
    writeFileSync(file, out);
    expect(execFileSync('gzip', ['-dc', file], { maxBuffer: 64 << 20 }).equals(input)).toBe(true);
    // Within 0.5% of one single-stream member.
    expect(out.length).toBeLessThan(zlib.gzipSync(input).length * 1.005);
  });

  it('an empty input is a valid empty gzip file', async () => {
    const out = await compress(Buffer.alloc(0), 1);
    expect(zlib.gunzipSync(out).length).toBe(0);
  });

  it('passes an upstream error on and keeps no member running into the output', async () => {
    const gz = new ParallelGzip({ blockBytes: 1000 });
    async function* failing(): AsyncGenerator<Buffer> {
      yield randomBytes(5000);
      throw new Error('disk gone');
    }
    await expect(pipeline(Readable.from(failing(), { objectMode: false }), gz, new Writable({ write: (_c, _e, d) => d() }))).rejects.toThrow('disk gone');
    expect(gz.destroyed).toBe(true);
  });
});
