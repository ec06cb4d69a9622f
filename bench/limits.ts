import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { medianOf } from './measure.js';

export interface MachineLimits {
  /** Bytes per second: rewriting one file, so the page cache reuses the pages it just freed. */
  writeFsync: number;
  /**
   * Writing new files that are kept, as snapshot create and export do: the page cache grows into
   * memory the machine has not used lately. On virtual machines that hand freed memory back to
   * their host, every such page costs a fault; shown for reference, targets use writeFsync.
   */
  writeFsyncNewFile?: number;
  /**
   * Reading the file into memory of its own (fs.readFile): the bytes land in fresh pages, as a
   * load's must, so first-touch page faults count — on some virtual machines they cost more than
   * the read.
   */
  read: number;
  /** Reading through one reused 4 MiB buffer: the page cache's copy speed, shown for reference. */
  readCached?: number;
  sha256: number;
  gzip: number;
  brotli: number;
  /** Seconds for JSON.stringify of all vectors + fs.writeFile (what a user would do by hand). */
  naiveJsonSave: number;
  /** How the naive save was done: one JSON.stringify, or batches when one string is too long for V8. */
  naiveJsonHow?: string;
  /** Per format: its uncompressed file's size and zlib's rates on it. */
  formats?: Record<string, { size: number; rates: CodecRates }>;
}

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);
const gunzip = promisify(zlib.gunzip);
const unbrotli = promisify(zlib.brotliDecompress);
const BROTLI_Q4 = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } };

/** zlib's own single-stream rates, in uncompressed bytes per second, on one format's bytes. */
export interface CodecRates {
  gzip: number;
  brotli: number;
  gunzip: number;
  unbrotli: number;
}

/**
 * Compression speed depends on what is compressed: JSON text deflates several times faster per
 * byte than float32 noise, and is three times bigger. So each format's compressed operations are
 * held to zlib's rate on that format's own uncompressed file (a 32 MiB sample of it), times its
 * full size — the work zlib itself would do for the same output.
 *
 * On this VM the rate is not a constant of the machine: one sample of the same bytes ranged
 * 41–97 MB/s, the median of five taken once per format moved from 83 to 114 MB/s between two
 * full runs while the operations took as long, and within one process eight samples rose from
 * 38 to 68 MB/s as it warmed. So the bench times one pass right before and one right after each
 * run of a compressed operation (`rate`), and that row's limit uses the median of those.
 */
export interface CodecProbe {
  /** Bytes in the sample (at most `maxSampleBytes`, 32 MiB unless told, from the file's start). */
  sampleBytes: number;
  /** zlib's rate for one pass of `kind` over the sample, in uncompressed bytes per second. */
  rate(kind: keyof CodecRates): Promise<number>;
}

export async function openCodecProbe(file: string, maxSampleBytes = 32 << 20): Promise<CodecProbe> {
  const handle = await fs.open(file, 'r');
  const sample = Buffer.allocUnsafe(maxSampleBytes);
  let bytesRead: number;
  try {
    ({ bytesRead } = await handle.read(sample, 0, sample.length, 0));
  } finally {
    await handle.close();
  }
  const input = sample.subarray(0, bytesRead);
  // Decompression passes need the sample's compressed forms; made once, not timed.
  const compressed = { gunzip: await gzip(input), unbrotli: await brotli(input, BROTLI_Q4) };
  const passes: Record<keyof CodecRates, () => Promise<unknown>> = {
    gzip: () => gzip(input),
    brotli: () => brotli(input, BROTLI_Q4),
    gunzip: () => gunzip(compressed.gunzip),
    unbrotli: () => unbrotli(compressed.unbrotli),
  };
  return {
    sampleBytes: bytesRead,
    rate: async (kind) => bytesRead / (await secondsOf(passes[kind])),
  };
}

/** Median of `runs` passes of each kind: the reference figures the table's limit lines show. */
export async function measureCodecRates(probe: CodecProbe, runs: number): Promise<CodecRates> {
  const rates = {} as CodecRates;
  for (const kind of ['gzip', 'brotli', 'gunzip', 'unbrotli'] as const) {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) samples.push(await probe.rate(kind));
    rates[kind] = median(samples);
  }
  return rates;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The raw passes the uncompressed rows' limits are made of, on the workload's own float32 bytes:
 * rewriting one file with fsync, reading it into fresh memory, SHA-256. Like zlib's rate (see
 * CodecProbe) they drift on this VM: in one full run the limits measured at the 1M workload's
 * start were as in the run before while its binary save, load and snapshot ran 35–40 % slower.
 * So the bench times them around every run of an operation too. Each call returns one pass's
 * seconds.
 */
export interface RawProbe {
  bytes: number;
  /** The file the write pass rewrites and the read pass reads. */
  file: string;
  write(): Promise<number>;
  read(): Promise<number>;
  sha256(): Promise<number>;
}

export function openRawProbe(dir: string, vectors: Float32Array): RawProbe {
  const bytes = Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength);
  const file = path.join(dir, 'raw.f32');
  return {
    bytes: bytes.length,
    file,
    write: () => secondsOf(() => writeFileSynced(file, bytes)),
    read: () =>
      secondsOf(async () => {
        if ((await fs.readFile(file)).length !== bytes.length) throw new Error('short read');
      }),
    sha256: () => secondsOf(async () => createHash('sha256').update(bytes).digest('hex')),
  };
}

/** Seconds one pass takes, timed alone (the bench settles the process before calling a probe). */
async function secondsOf(pass: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await pass();
  return (performance.now() - start) / 1000;
}

async function writeFileSynced(target: string, bytes: Buffer): Promise<void> {
  const handle = await fs.open(target, 'w');
  try {
    for (let off = 0; off < bytes.length; off += 1 << 22) await handle.write(bytes, off, Math.min(1 << 22, bytes.length - off));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * What this machine can physically do with the same bytes, measured once at the start of a
 * workload: the reference figures of the table's limit lines. `probe`'s file is left in place
 * for the runs that follow.
 */
export async function measureLimits(dir: string, probe: RawProbe, vectors: Float32Array, runs: number, codecRuns: number): Promise<MachineLimits> {
  const bytes = Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength);
  const write = await medianOf(runs, () => probe.write());
  // Removed at once to free the disk (on failure, the bench removes `dir`).
  const kept: string[] = [];
  const writeNew = await medianOf(runs, async () => {
    kept.push(path.join(dir, `raw-kept-${kept.length}.f32`));
    await writeFileSynced(kept[kept.length - 1]!, bytes);
  });
  await Promise.all(kept.map((f) => fs.rm(f, { force: true })));
  const read = await medianOf(runs, () => probe.read());
  const readCached = await medianOf(runs, async () => {
    const handle = await fs.open(probe.file, 'r');
    const buf = Buffer.allocUnsafe(1 << 22);
    while ((await handle.read(buf, 0, buf.length)).bytesRead > 0);
    await handle.close();
  });
  const sha = await medianOf(runs, () => probe.sha256());
  // Compression speed on a 32 MiB sample (zlib's own rate, single stream).
  const sample = bytes.subarray(0, Math.min(bytes.length, 32 << 20));
  const gz = await medianOf(codecRuns, () => gzip(sample));
  const br = await medianOf(codecRuns, () => brotli(sample, BROTLI_Q4));
  return {
    writeFsync: bytes.length / write.seconds,
    writeFsyncNewFile: bytes.length / writeNew.seconds,
    read: bytes.length / read.seconds,
    readCached: bytes.length / readCached.seconds,
    sha256: bytes.length / sha.seconds,
    gzip: sample.length / gz.seconds,
    brotli: sample.length / br.seconds,
    naiveJsonSave: 0,
  };
}
