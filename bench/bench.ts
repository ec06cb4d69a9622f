/**
 * `npm run bench [-- --quick]`: SPEC §7's workloads against this machine's own limits, measured
 * in the same run. Prints one table and writes bench/results/latest.json and docs/BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabasePersistence, VectorDB, generateSampleData, type Compression, type Format } from '../core/index.js';
import { writeFileAtomic } from '../core/io/atomic-write.js';
import { hugePagesAvailable } from '../core/io/huge-pages.js';
import { dropBehindAvailable } from '../core/io/page-cache.js';
import { measureCodecRates, measureLimits, median, openCodecProbe, openRawProbe, type CodecProbe, type CodecRates, type MachineLimits } from './limits.js';
import { measure, medianOf, settle, type Measurement } from './measure.js';
import { renderMarkdown, renderTable, type Row } from './report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const quick = process.argv.includes('--quick');
const WORKLOADS = quick ? [{ count: 10_000, dimension: 384 }] : [{ count: 100_000, dimension: 384 }, { count: 1_000_000, dimension: 128 }];
const RUNS = quick ? 1 : 3;
/**
 * Verify and incremental saves take 20–120 ms, where one fsync's jitter (0.3–2 ms) and the page
 * cache's background write-back move a sample by 10–50 %; the median of three was decided by
 * whichever run met that. They are cheap, so their median is taken over more runs.
 */
const SHORT_RUNS = quick ? 1 : 7;
/**
 * zlib's reference rate samples per format, whose median the limit lines show (rows use passes
 * timed around their own runs).
 */
const CODEC_RUNS = quick ? 1 : 5;
/**
 * The sample zlib's rate is timed on, before and after every run of a compressed operation. The
 * quick run's files are 15–46 MiB, and 32 MiB passes of JSON there would take half its minute.
 */
const CODEC_SAMPLE_BYTES = quick ? 4 << 20 : 32 << 20;
const FORMATS: Format[] = ['binary', 'sqlite', 'json'];
const COMPRESSIONS: Compression[] = ['none', 'gzip', 'brotli'];
/** The original design document's estimates at 100k (seconds). */
const ORIGINAL = { save: 3, load: 6, incremental: 1 };

function buildDb(count: number, dimension: number): VectorDB {
  const db = new VectorDB({ dimension, initialCapacity: count });
  const batch = 50_000;
  for (let i = 0; i < count; i += batch) {
    const entries = generateSampleData({ count: Math.min(batch, count - i), dimension, seed: 1 + i });
    db.insertBatch(entries.map((e, j) => ({ ...e, id: `v${i + j}` })));
  }
  return db;
}

function change(db: VectorDB, fraction: number, seed: number): void {
  const ids = [...db.ids()];
  const n = Math.max(1, Math.floor(ids.length * fraction));
  const fresh = generateSampleData({ count: n, dimension: db.dimension, seed });
  for (let i = 0; i < n; i++) {
    const id = ids[(i * 7919 + seed) % ids.length]!;
    db.insert({ id, vector: fresh[i]!.vector, metadata: { changed: seed } });
  }
}

/**
 * What a user would write by hand: `JSON.stringify` of all vectors and `fs.writeFile`. Past about
 * 512 MiB of text V8 cannot build the string at all; then the user's next attempt is assumed —
 * the same, 10,000 vectors per `JSON.stringify`, appended to one write stream.
 */
async function naiveJson(db: VectorDB, file: string): Promise<{ seconds: number; how: string }> {
  const asPlain = (e: { id: string; vector: Float32Array; metadata?: unknown }) => ({ id: e.id, vector: Array.from(e.vector), metadata: e.metadata });
  try {
    const m = await measure(async () => {
      await fs.writeFile(file, JSON.stringify({ vectors: [...db.entries()].map(asPlain) }));
    });
    return { seconds: m.seconds, how: 'one JSON.stringify' };
  } catch {
    const m = await measure(async () => {
      const handle = await fs.open(file, 'w');
      let batch: unknown[] = [];
      let first = true;
      const flush = async (): Promise<void> => {
        const text = JSON.stringify(batch).slice(1, -1);
        await handle.write((first ? '{"vectors":[' : ',') + text);
        first = false;
        batch = [];
      };
      for (const e of db.entries()) {
        batch.push(asPlain(e));
        if (batch.length === 10_000) await flush();
      }
      if (batch.length > 0) await flush();
      await handle.write(first ? '{"vectors":[]}' : ']}');
      await handle.close();
    });
    return { seconds: m.seconds, how: 'one JSON.stringify fails (string too long); batches of 10,000' };
  } finally {
    await fs.rm(file, { force: true });
  }
}

/** One workload in a temp folder of its own, removed however the run ends. */
async function benchWorkload(count: number, dimension: number, rows: Row[]): Promise<MachineLimits> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vecsnap-bench-'));
  try {
    return await benchWorkloadIn(dir, count, dimension, rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchWorkloadIn(dir: string, count: number, dimension: number, rows: Row[]): Promise<MachineLimits> {
  const label = `${count.toLocaleString('en-US')} × ${dimension}`;
  process.stdout.write(`\n${label}: building the database… `);
  const db = buildDb(count, dimension);
  const rawBytes = count * dimension * 4;
  const slab = new Float32Array(count * dimension);
  let offset = 0;
  for (const chunk of db.readChunks(65_536)) {
    slab.set(chunk.vectors, offset);
    offset += chunk.vectors.length;
  }
  process.stdout.write('measuring the machine… ');
  const raw = openRawProbe(dir, slab);
  const limits = await measureLimits(dir, raw, slab, RUNS, CODEC_RUNS);
  const naive = await naiveJson(db, path.join(dir, 'naive.json'));
  limits.naiveJsonSave = naive.seconds;
  limits.naiveJsonHow = naive.how;
  const add = (operation: string, format: Format, compression: Compression, t: { m: Measurement; limit: number; target: number; extra: Partial<Row> }, extra: Partial<Row> = {}) => {
    const { m } = t;
    rows.push({
      workload: label, operation, format, compression, rawBytes, seconds: m.seconds, limitSeconds: t.limit, target: t.target,
      peakRss: m.peakRss, rssBefore: m.rssBefore, rssAfter: m.rssAfter, maxStallMs: m.maxStallMs, dbBytes: rawBytes,
      // SPEC §7: no stall over 100 ms during any job on the 100k workload.
      ...(count <= 100_000 ? { stallLimitMs: 100 } : {}),
      ...t.extra,
      ...extra,
    });
  };
  const uncompressedTarget = (f: Format) => (f === 'binary' ? 2 : f === 'sqlite' ? 4 : 15);
  /** Each format's uncompressed file: its size, zlib's reference rates on it, and the probe (see CodecProbe). */
  const codec = new Map<Format, { size: number; rates: CodecRates; probe: CodecProbe }>();
  type Passes = Record<string, () => Promise<number>>;
  /**
   * Runs one row's operation `runs` times, timing the passes its limit is made of (each in
   * seconds for the whole data) right before and right after every run; see RawProbe and
   * CodecProbe for why. Each pass starts as the operation does (measure): garbage collected and
   * 50 ms later, so neither runs in the other's wake. Returns each pass's median.
   */
  const around = async (runs: number, passes: Passes, op: () => Promise<unknown>, before?: () => Promise<void>) => {
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(passes).map((k) => [k, []]));
    const sampleAll = async (): Promise<void> => {
      for (const [name, pass] of Object.entries(passes)) {
        await settle();
        samples[name]!.push(await pass());
      }
    };
    // The quick run's single run is timed against passes before it only, to stay under a minute.
    const m = await medianOf(runs, op, async () => {
      await before?.();
      await sampleAll();
    }, quick ? undefined : sampleAll);
    const medians = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
    return { m, medians, extra: { limitPasses: samples } };
  };
  /**
   * One row's operation against its limit:
   * - uncompressed writes: rewriting the raw bytes with fsync plus SHA-256 of them; reads: reading
   *   them into fresh memory plus SHA-256;
   * - compressed writes: SPEC §7's 1.3× of zlib compressing the format's own file, single stream;
   * - compressed reads (SPEC §7 is silent): the format's own load budget plus 1.3× zlib
   *   decompressing the same bytes, expressed as one limit and the blended target.
   */
  const timed = async (
    f: Format, c: Compression, direction: 'write' | 'read', op: () => Promise<unknown>, before?: () => Promise<void>,
  ): Promise<{ m: Measurement; limit: number; target: number; extra: Partial<Row> }> => {
    const passes: Passes = {};
    if (c === 'none' || direction === 'read') {
      if (direction === 'write') passes.write = () => raw.write();
      else passes.read = () => raw.read();
      passes.sha256 = () => raw.sha256();
    }
    if (c !== 'none') {
      const { size, probe } = codec.get(f)!;
      const kind = direction === 'write' ? (c === 'gzip' ? 'gzip' : 'brotli') : c === 'gzip' ? 'gunzip' : 'unbrotli';
      passes[kind] = async () => size / (await probe.rate(kind));
    }
    const { m, medians, extra } = await around(RUNS, passes, op, before);
    const io = (medians.write ?? medians.read ?? 0) + (medians.sha256 ?? 0);
    const inflate = medians.gunzip ?? medians.unbrotli ?? 0;
    if (c === 'none') return { m, limit: io, target: uncompressedTarget(f), extra };
    if (direction === 'write') return { m, limit: medians.gzip ?? medians.brotli!, target: 1.3, extra };
    return { m, limit: io + inflate, target: (uncompressedTarget(f) * io + 1.3 * inflate) / (io + inflate), extra };
  };

  for (const format of FORMATS) {
    for (const compression of COMPRESSIONS) {
      if (!quick && count >= 1_000_000 && format === 'json' && compression !== 'none') continue; // hours, not minutes
      process.stdout.write(`\n  ${format}+${compression}: `);
      const base = path.join(dir, `${format}-${compression}`);
      const p = new DatabasePersistence(db, { baseDir: base, format, compression, incremental: true });
      let savedPath = '';
      const save = await timed(format, compression, 'write', async () => (savedPath = await p.save()));
      if (compression === 'none') {
        const probe = await openCodecProbe(savedPath, CODEC_SAMPLE_BYTES);
        codec.set(format, { size: (await fs.stat(savedPath)).size, rates: await measureCodecRates(probe, CODEC_RUNS), probe });
      }
      add('save', format, compression, save, { original: count === 100_000 ? ORIGINAL.save : undefined, naive: limits.naiveJsonSave });
      process.stdout.write('save ');
      const target = new VectorDB({ dimension });
      const loader = new DatabasePersistence(target, { baseDir: base });
      const load = await timed(format, compression, 'read', () => loader.load(), async () => target.clear());
      add('load', format, compression, load, { original: count === 100_000 ? ORIGINAL.load : undefined, builtBytes: target.stats().memoryBytes });
      target.clear();
      process.stdout.write('load ');
      const snapA = await p.createSnapshot('a');
      add('snapshot create', format, compression, await timed(format, compression, 'write', () => p.createSnapshot('b')));
      const verify = await around(SHORT_RUNS, { sha256: async () => (await raw.sha256()) * (snapA.fileSize / raw.bytes) }, () => p.verifySnapshot(snapA.id));
      add('verify', format, compression, { ...verify, limit: verify.medians.sha256!, target: 1 / 0.8 });
      const restoreDb = new VectorDB({ dimension });
      const rp = new DatabasePersistence(restoreDb, { baseDir: base });
      const restore = await timed(format, compression, 'read', () => rp.restoreSnapshot(snapA.id), async () => restoreDb.clear());
      add('restore', format, compression, restore, { builtBytes: restoreDb.stats().memoryBytes });
      restoreDb.clear();
      process.stdout.write('snapshot verify restore ');
      if (compression === 'none') {
        for (const fraction of [0.01, 0.1]) {
          // Each run starts from a full save and changes the database anew (a seed per format,
          // fraction and run); a few milliseconds of fsync jitter make one sample meaningless.
          let run = 0;
          const inc = await medianOf(SHORT_RUNS, () => p.saveIncremental(), async () => {
            await p.save();
            change(db, fraction, Math.round(fraction * 1000) + FORMATS.indexOf(format) * 7919 + 104_729 * run++);
          });
          const fullBinary = rows.find((r) => r.workload === label && r.operation === 'save' && r.format === 'binary' && r.compression === 'none')!;
          add(`incremental ${fraction * 100}%`, format, compression, { m: inc, limit: fullBinary.seconds, target: fraction === 0.01 ? 0.05 : 1, extra: {} }, {
            original: count === 100_000 && fraction === 0.01 ? ORIGINAL.incremental : undefined,
          });
        }
        const snapC = await p.createSnapshot('c');
        const cmp = await medianOf(RUNS, () => p.compareSnapshots(snapA.id, snapC.id));
        // SPEC §7 sets 2 s for two 100k snapshots; other sizes are held to it scaled by entry count.
        const compareTarget = 2 * (count / 100_000);
        add('compare', format, compression, { m: cmp, limit: compareTarget, target: 1, extra: {} }, { absoluteTarget: compareTarget });
        process.stdout.write('incremental compare ');
      }
      const out = path.join(dir, `export-${format}-${compression}`);
      add('export', format, compression, await timed(format, compression, 'write', () => p.export({ path: out, format, compress: compression })));
      const importDb = new VectorDB({ dimension });
      const imp = await timed(format, compression, 'read', () => new DatabasePersistence(importDb, { baseDir: base }).import({ path: out, clear: true }), async () => importDb.clear());
      add('import', format, compression, imp, { builtBytes: importDb.stats().memoryBytes });
      importDb.clear();
      process.stdout.write('export import');
      await p.shutdown();
      rmSync(base, { recursive: true, force: true });
      await fs.rm(out, { force: true });
    }
  }
  limits.formats = Object.fromEntries([...codec].map(([f, { size, rates }]) => [f, { size, rates }]));
  return limits;
}

/** The commit the results belong to, marked when the working tree had uncommitted changes. */
function commitUnderTest(): string {
  try {
    const run = (args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = run(['rev-parse', '--short', 'HEAD']);
    return run(['status', '--porcelain', '--untracked-files=no']) === '' ? head : `${head} with uncommitted changes`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

async function main(): Promise<void> {
  // Taken before the run: files edited while it runs are not what it measured.
  const commit = commitUnderTest();
  const rows: Row[] = [];
  const limits: Record<string, MachineLimits> = {};
  for (const w of WORKLOADS) limits[`${w.count} × ${w.dimension}`] = await benchWorkload(w.count, w.dimension, rows);
  const machine = {
    date: new Date().toISOString(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    commit,
    quick,
    // Whether large writes dropped their written-back pages (core/io/page-cache.ts).
    dropBehind: dropBehindAvailable(),
    // Whether vector storage asked for huge pages (core/io/huge-pages.ts).
    hugePages: hugePagesAvailable(),
  };
  console.log('\n');
  console.log(renderTable(rows, limits));
  const resultsDir = path.join(root, 'bench', 'results');
  await fs.mkdir(resultsDir, { recursive: true });
  // Atomic, like every write of the engine: an interrupted run keeps the previous results whole.
  await writeFileAtomic(path.join(resultsDir, quick ? 'quick.json' : 'latest.json'), JSON.stringify({ machine, limits, rows }, null, 2));
  if (!quick) await writeFileAtomic(path.join(root, 'docs', 'BENCHMARKS.md'), renderMarkdown(rows, limits, machine));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
