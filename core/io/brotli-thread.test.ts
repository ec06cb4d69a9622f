import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { BrotliThreadCompress, brotliThreadCount, crashBrotliThreadForTest } from './brotli-thread.js';
import { createCompressor } from './compression.js';

const PARAMS = { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 };

/** Compressible but not trivial: float32 values as a vector database holds them. */
function floatBytes(n: number): Buffer {
  const f = new Float32Array(Math.ceil(n / 4));
  for (let i = 0; i < f.length; i++) f[i] = Math.sin(i * 0.37) * 0.25 + (i % 7) * 1e-3;
  return Buffer.from(f.buffer, 0, n);
}

async function* pieces(input: Buffer, piece: number, pulled?: { bytes: number }, pauseMs = 0): AsyncGenerator<Buffer> {
  for (let off = 0; off < input.length; off += piece) {
    const part = input.subarray(off, off + piece);
    if (pulled) pulled.bytes += part.length;
    yield part;
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

function collector(parts: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      parts.push(chunk);
      done();
    },
  });
}

async function compress(stream: NodeJS.ReadWriteStream, input: Buffer, piece: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(Readable.from(pieces(input, piece), { objectMode: false }), stream, collector(parts));
  return Buffer.concat(parts);
}

afterEach(() => {
  delete process.env.VECSNAP_BROTLI_THREAD;
});

describe('BrotliThreadCompress', () => {
  it.each([
    ['empty', 0, 1000],
    ['one byte', 1, 1],
    ['exactly one input block', 4 * 1024 * 1024, 1 << 20],
    ['blocks straddling odd writes', 3 * 4 * 1024 * 1024 + 12_345, 999_983],
  ])('compresses %s to what brotli decodes back byte for byte', async (_name, size, piece) => {
    const input = floatBytes(size);
    const out = await compress(new BrotliThreadCompress(PARAMS), input, piece);
    expect(zlib.brotliDecompressSync(out).equals(input)).toBe(true);
  });

  it('reuses its thread for the next stream and runs two streams at once on two threads', async () => {
    await compress(new BrotliThreadCompress(PARAMS), floatBytes(1000), 100);
    const before = brotliThreadCount();
    await compress(new BrotliThreadCompress(PARAMS), floatBytes(1000), 100);
    expect(brotliThreadCount()).toBe(before);
    const a = floatBytes(5_000_000);
    const b = randomBytes(3_000_000);
    const [outA, outB] = await Promise.all([compress(new BrotliThreadCompress(PARAMS), a, 65_536), compress(new BrotliThreadCompress(PARAMS), b, 70_001)]);
    expect(brotliThreadCount()).toBe(Math.max(before, 2));
    expect(zlib.brotliDecompressSync(outA).equals(a)).toBe(true);
    expect(zlib.brotliDecompressSync(outB).equals(b)).toBe(true);
  });

  it('stops taking input while its output is not read (a slow disk), then finishes', async () => {
    // Random bytes do not compress: what goes in comes out, and must wait for the reader. Fed
    // slower than brotli takes them, so the blocks in flight never limit the input on their own.
    const input = randomBytes(48 * 1024 * 1024);
    const pulled = { bytes: 0 };
    const compressor = new BrotliThreadCompress(PARAMS);
    const source = Readable.from(pieces(input, 1 << 20, pulled, 15), { objectMode: false });
    source.pipe(compressor);
    // Nothing reads the compressor yet: input stops once output waits and the blocks are out.
    let last = -1;
    while (last !== pulled.bytes) {
      last = pulled.bytes;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(pulled.bytes).toBeLessThan(40 * 1024 * 1024);
    // Checked as each block fills: at most the 8 MiB limit plus the four blocks then in flight.
    expect(compressor.readableLength).toBeLessThanOrEqual(25 * 1024 * 1024);
    const parts: Buffer[] = [];
    await pipeline(compressor, collector(parts));
    expect(pulled.bytes).toBe(input.length);
    expect(zlib.brotliDecompressSync(Buffer.concat(parts)).equals(input)).toBe(true);
  });

  it('fails the stream, instead of hanging, when its thread dies; the next stream starts a new one', async () => {
    const input = randomBytes(32 * 1024 * 1024);
    const pending = compress(new BrotliThreadCompress(PARAMS), input, 1 << 20);
    await new Promise((resolve) => setTimeout(resolve, 20));
    crashBrotliThreadForTest();
    await expect(pending).rejects.toThrow(/brotli thread stopped/);
    const again = floatBytes(100_000);
    expect(zlib.brotliDecompressSync(await compress(new BrotliThreadCompress(PARAMS), again, 7_000)).equals(again)).toBe(true);
  });

  it('lets a stream be abandoned mid-way and serves the next one on the same thread', async () => {
    const compressor = new BrotliThreadCompress(PARAMS);
    compressor.write(floatBytes(9 * 1024 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 30));
    compressor.destroy();
    const count = brotliThreadCount();
    const input = floatBytes(2_000_000);
    expect(zlib.brotliDecompressSync(await compress(new BrotliThreadCompress(PARAMS), input, 123_457)).equals(input)).toBe(true);
    expect(brotliThreadCount()).toBe(count);
  });
});

/** Message ports that keep this process alive; a worker in use holds one. */
function liveMessagePorts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
}

describe('BrotliThreadCompress and process exit', () => {
  it('holds the process only while a stream is open: not after it ends, is abandoned, or its thread is new', async () => {
    crashBrotliThreadForTest();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const idle = liveMessagePorts();
    const open = new BrotliThreadCompress(PARAMS);
    expect(liveMessagePorts()).toBe(idle + 1);
    open.end(floatBytes(10_000));
    open.resume();
    await new Promise((resolve) => open.once('end', resolve));
    expect(liveMessagePorts()).toBe(idle);
    const abandoned = new BrotliThreadCompress(PARAMS);
    abandoned.write(floatBytes(5 * 1024 * 1024));
    abandoned.destroy();
    expect(liveMessagePorts()).toBe(idle);
  });
});

describe('createCompressor("brotli")', () => {
  it('drives brotli from a thread, or from this one with VECSNAP_BROTLI_THREAD=0, with the same bytes decoded', async () => {
    const input = floatBytes(6_000_000);
    const threaded = createCompressor('brotli', input.length)!;
    expect(threaded).toBeInstanceOf(BrotliThreadCompress);
    process.env.VECSNAP_BROTLI_THREAD = '0';
    const inline = createCompressor('brotli', input.length)!;
    expect(inline).not.toBeInstanceOf(BrotliThreadCompress);
    const [a, b] = await Promise.all([compress(threaded, input, 1 << 20), compress(inline, input, 1 << 20)]);
    expect(zlib.brotliDecompressSync(a).equals(input)).toBe(true);
    expect(zlib.brotliDecompressSync(b).equals(input)).toBe(true);
  });
});
