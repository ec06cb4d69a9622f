import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TRICKY_IDS, fileHandlePrototype, rng, tempDir } from '../test-helpers/fixtures.js';
import type { DatasetHeader, EntryChunk, Metadata } from '../types.js';
import { binaryCodec } from './binary.js';
import type { EncodeSummary, StreamCodec } from './codec.js';
import { ContentDigest } from './content-digest.js';
import { jsonCodec } from './json.js';
import { SQLITE_MAGIC, openSqliteFile, writeSqliteFile } from './sqlite.js';
import { readerThreadStats, sqliteReadTuning } from './sqlite-thread.js';
import { sqliteWriteTuning, writerThreadFaults, writerThreadStats } from './sqlite-writer.js';

const SPECIAL = [-0, 1.4e-45, -1.4e-45, 1e-40, 3.4028234663852886e38, -3.4028234663852886e38, 0.1, 0].map(Math.fround);

const METADATA: ((i: number, rand: () => number) => Metadata | undefined)[] = [
  () => undefined,
  (i, rand) => ({ title: `doc ${i}`, nested: { deep: [1, { x: 'y' }], ok: true, none: null }, score: rand() }),
  () => ({}),
  (i) => ({ text: 'Grüße 🌍 "quoted" \\ back\nline', n: i, 東京: ['🚀'] }),
];

interface Data {
  ids: string[];
  vectors: Float32Array;
  metadata: (Metadata | undefined)[];
}

/** Seeded entries: tricky ids first, special floats in the first vectors, mixed metadata. */
function makeData(count: number, dimension: number, seed = 1): Data {
  const rand = rng(seed);
  const ids = Array.from({ length: count }, (_, i) => (i < TRICKY_IDS.length ? `${TRICKY_IDS[i]}-${i}` : `id-${i}`));
  const vectors = new Float32Array(count * dimension);
  for (let j = 0; j < vectors.length; j++) vectors[j] = rand() * 2 - 1;
  for (let i = 0; i < Math.min(count, SPECIAL.length); i++) vectors.set(SPECIAL.slice(0, dimension), i * dimension);
  const metadata = ids.map((_, i) => METADATA[i % METADATA.length]!(i, rand));
  return { ids, vectors, metadata };
}

/** The same data cut into chunks of `per` entries (views into one buffer, so byteOffset varies). */
function chunked(data: Data, dimension: number, per: number): EntryChunk[] {
  const out: EntryChunk[] = [];
  for (let s = 0; s < data.ids.length; s += per) {
    const e = Math.min(data.ids.length, s + per);
    out.push({ ids: data.ids.slice(s, e), vectors: data.vectors.subarray(s * dimension, e * dimension), metadata: data.metadata.slice(s, e) });
  }
  return out;
}

function headerFor(dimension: number, count: number, metadata?: Metadata): DatasetHeader {
  return { dimension, metric: 'euclidean', count, createdAt: 1_700_000_000_456, ...(metadata ? { metadata } : {}) };
}

const bytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

async function drain(chunks: AsyncIterable<EntryChunk>): Promise<Data & { sizes: number[] }> {
  const list: EntryChunk[] = [];
  for await (const c of chunks) {
    expect(Object.keys(c.metadata).length, 'metadata has a slot (no hole) per entry').toBe(c.ids.length);
    list.push(c);
  }
  const vectors = new Float32Array(list.reduce((n, c) => n + c.vectors.length, 0));
  list.reduce((at, c) => (vectors.set(c.vectors, at), at + c.vectors.length), 0);
  return {
    ids: list.flatMap((c) => c.ids),
    vectors,
    metadata: list.flatMap((c) => c.metadata),
    sizes: list.map((c) => c.ids.length),
  };
}

function expectSameData(got: Data, want: Data): void {
  expect(got.ids).toEqual(want.ids);
  expect(bytes(got.vectors).equals(bytes(want.vectors))).toBe(true);
  expect(got.metadata).toEqual(want.metadata);
  expect(Object.keys(got.metadata).length, 'metadata has a slot (no hole) per entry').toBe(got.ids.length);
  got.metadata.forEach((m, i) => expect(m === undefined, `metadata presence of ${got.ids[i]}`).toBe(want.metadata[i] === undefined));
}

async function codeOf(work: () => unknown): Promise<string> {
  try {
    await work();
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${String(err)}`;
  }
  return 'ok';
}

const { dir, cleanup } = tempDir('vecsnap-sqlite-test-');
afterAll(cleanup);
let fileNo = 0;
const freshPath = (name = 'db') => path.join(dir, `${name}-${fileNo++}.sqlite`);

async function write(header: DatasetHeader, chunks: Iterable<EntryChunk> | AsyncIterable<EntryChunk>, file = freshPath()) {
  const summary = await writeSqliteFile(file, header, chunks);
  return { file, summary };
}

/** Opens, drains fully and closes. */
async function readAll(file: string, options?: { batchSize?: number; verifyChecksum?: boolean }) {
  const ds = openSqliteFile(file);
  try {
    return { header: ds.header, stored: ds.storedChecksum, count: ds.count(), ...(await drain(ds.chunks(options))) };
  } finally {
    ds.close();
  }
}

/** Hands out `chunks`, aborting `controller` as the `at`-th goes out; `handed()` counts them. */
function abortingAt(chunks: EntryChunk[], at: number, controller: AbortController) {
  let handed = 0;
  const source = (async function* () {
    for (const chunk of chunks) {
      if (++handed === at) controller.abort();
      yield chunk;
    }
  })();
  return { source, handed: () => handed };
}

async function streamEncode(codec: StreamCodec, header: DatasetHeader, chunks: EntryChunk[]) {
  const summary: EncodeSummary = { count: -1, contentChecksum: '' };
  const pieces: Buffer[] = [];
  for await (const p of codec.encode(header, chunks, summary)) pieces.push(p);
  return { file: Buffer.concat(pieces), summary };
}

/** Every write below runs once inline and once with its rows inserted on the writer thread. */
const WRITERS = ['inline', 'on the writer thread'] as const;

function useWriter(writer: (typeof WRITERS)[number]): void {
  const saved = sqliteWriteTuning.threadMinRows;
  let atStart = 0;
  beforeAll(() => (atStart = writerThreadStats.files));
  beforeEach(() => (sqliteWriteTuning.threadMinRows = writer === 'inline' ? Infinity : 0));
  afterEach(() => (sqliteWriteTuning.threadMinRows = saved));
  // The mode really was the one named: files went through the thread exactly when asked to.
  afterAll(() => (writer === 'inline' ? expect(writerThreadStats.files).toBe(atStart) : expect(writerThreadStats.files).toBeGreaterThan(atStart)));
}

for (const writer of WRITERS) {
  describe(`sqlite (rows written ${writer}): round trips`, () => {
    useWriter(writer);
    const dim = 12;
    const data = makeData(60, dim);

    it('keeps header, ids in order, vector bits and metadata exactly, in any batch size', async () => {
      const header = headerFor(dim, 60, { note: 'export', nested: { a: [1, null, true] } });
      const { file, summary } = await write(header, chunked(data, dim, 7));
      expect(summary.count).toBe(60);
      expect(readFileSync(file).subarray(0, 16).equals(SQLITE_MAGIC)).toBe(true);
      for (const batchSize of [undefined, 1, 13, 60, 1000]) {
        const back = await readAll(file, batchSize === undefined ? undefined : { batchSize });
        expect(back.header).toEqual(header);
        expect(back.count).toBe(60);
        expectSameData(back, data);
        if (batchSize) expect(Math.max(...back.sizes)).toBeLessThanOrEqual(batchSize);
        expect(back.stored).toBe(summary.contentChecksum);
      }
      const back = await readAll(file);
      expect(Object.is(back.vectors[0], -0)).toBe(true);
    });

    it('keeps every row in order when chunks are written 64 rows per statement plus the rest', async () => {
      const many = makeData(1000, dim, 8);
      for (const per of [64, 100, 333, 1000]) {
        const { file, summary } = await write(headerFor(dim, 1000), chunked(many, dim, per));
        expect(summary.count).toBe(1000);
        const back = await readAll(file);
        expectSameData(back, many);
        expect(back.stored).toBe(summary.contentChecksum);
      }
    });

    it('stores the same format-independent content checksum as binary and json, whatever the chunking', async () => {
      const header = headerFor(dim, 60);
      const digest = new ContentDigest(dim);
      digest.update({ ids: data.ids, vectors: data.vectors, metadata: data.metadata });
      const expected = digest.digest();
      for (const per of [1, 7, 60]) {
        const chunks = chunked(data, dim, per);
        const sqlite = await write(header, chunks);
        expect(sqlite.summary.contentChecksum, `sqlite per ${per}`).toBe(expected);
        const opened = openSqliteFile(sqlite.file);
        expect(opened.storedChecksum).toBe(expected);
        opened.close();
        for (const codec of [binaryCodec, jsonCodec]) {
          const { file, summary } = await streamEncode(codec, header, chunks);
          expect(summary.contentChecksum, `${codec.format} per ${per}`).toBe(expected);
          const decoded = await codec.decode((async function* () { yield file; })());
          expectSameData(await drain(decoded.chunks), data);
          expect(decoded.storedChecksum()).toBe(expected);
        }
      }
    });

    it('handles an empty dataset (no chunks, or only empty ones)', async () => {
      const empty: EntryChunk = { ids: [], vectors: new Float32Array(0), metadata: [] };
      for (const source of [[], [empty, empty]]) {
        const { file, summary } = await write(headerFor(3, 0), source);
        expect(summary).toEqual({ count: 0, contentChecksum: new ContentDigest(3).digest() });
        const ds = openSqliteFile(file);
        expect(ds.page(0, 10).ids).toEqual([]);
        ds.close();
        const back = await readAll(file);
        expect(back.ids).toEqual([]);
        expect(back.sizes).toEqual([]);
        expect(back.stored).toBe(summary.contentChecksum);
      }
    });

    it('round-trips 10,000 × 384 vectors', async () => {
      const big = makeData(10_000, 384, 7);
      const { file, summary } = await write(headerFor(384, 10_000), chunked(big, 384, 3000));
      const back = await readAll(file);
      expectSameData(back, big);
      expect(Math.max(...back.sizes)).toBeLessThanOrEqual(2048);
      expect(back.stored).toBe(summary.contentChecksum);
    });

    it('reads pages by insertion order: first, middle, partly and wholly past the end', async () => {
      const { file } = await write(headerFor(dim, 60), chunked(data, dim, 25));
      const ds = openSqliteFile(file);
      try {
        const slice = (from: number, to: number): Data => ({
          ids: data.ids.slice(from, to),
          vectors: data.vectors.slice(from * dim, to * dim),
          metadata: data.metadata.slice(from, to),
        });
        expectSameData(ds.page(0, 10), slice(0, 10));
        expectSameData(ds.page(23, 5), slice(23, 28));
        expectSameData(ds.page(55, 10), slice(55, 60));
        expectSameData(ds.page(60, 10), slice(60, 60));
        expectSameData(ds.page(1000, 10), slice(60, 60));
        expectSameData(ds.page(10, 0), slice(10, 10));
        // A page between two chunks of an iteration does not disturb it.
        const ids: string[] = [];
        for await (const chunk of ds.chunks({ batchSize: 16 })) {
          ids.push(...chunk.ids);
          expect(ds.page(30, 1).ids).toEqual([data.ids[30]]);
        }
        expect(ids).toEqual(data.ids);
      } finally {
        ds.close();
      }
    });

    it('is a plain SQLite database: meta and vectors(id, vector, metadata) in insertion order', async () => {
      // Ids whose sorted order differs from insertion order.
      const ids = ['zeta', 'alpha', 'Mu', '東京-🚀', 'beta', '0'];
      const vectors = Float32Array.from({ length: ids.length * 2 }, (_, i) => i * 0.5 - 1);
      const metadata = [{ a: 1 }, undefined, {}, { s: 'x"y' }, undefined, { n: [1, 2] }];
      const { file, summary } = await write(headerFor(2, ids.length, { h: true }), [{ ids, vectors, metadata }]);
      const db = new Database(file, { readonly: true });
      try {
        const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]);
        expect(tables).toEqual(['meta', 'vectors']);
        const cols = (db.pragma('table_info(vectors)') as { name: string }[]).map((c) => c.name);
        expect(cols).toEqual(['id', 'vector', 'metadata']);
        const meta = Object.fromEntries(db.prepare('SELECT key, value FROM meta').raw().all() as [string, string][]);
        expect(meta).toMatchObject({ dimension: '2', metric: 'euclidean', count: '6', contentChecksum: summary.contentChecksum });
        expect(JSON.parse(meta.metadata!)).toEqual({ h: true });
        const rows = db.prepare('SELECT id, vector, metadata FROM vectors ORDER BY rowid').raw().all() as [string, Buffer, string | null][];
        expect(rows.map((r) => r[0])).toEqual(ids);
        rows.forEach(([, blob, json], i) => {
          expect(blob.equals(bytes(vectors.subarray(i * 2, i * 2 + 2)))).toBe(true);
          expect(json === null ? undefined : JSON.parse(json)).toEqual(metadata[i]);
        });
      } finally {
        db.close();
      }
    });
  });

  describe(`sqlite (rows written ${writer}): damage, foreign files and failures`, () => {
    useWriter(writer);
    const dim = 16;
    const data = makeData(40, dim, 3);

    it('refuses a file that is not SQLite (UNSUPPORTED_FORMAT)', async () => {
      const cases: [string, Buffer][] = [
        ['json', Buffer.from('{"version":"1.0.0","vectors":[]}')],
        ['binary', Buffer.concat([Buffer.from('VSNAPBIN'), Buffer.alloc(200)])],
        ['random', Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 131 + 7) & 0xff))],
        ['text', Buffer.from('hello world\n'.repeat(500))],
      ];
      for (const [name, content] of cases) {
        const file = freshPath(name);
        writeFileSync(file, content);
        expect(`${name}: ${await codeOf(() => openSqliteFile(file))}`).toBe(`${name}: UNSUPPORTED_FORMAT`);
      }
    });

    it('refuses a SQLite database that VecSnap did not write (UNSUPPORTED_FORMAT)', async () => {
      const file = freshPath('foreign');
      const db = new Database(file);
      db.exec("CREATE TABLE people (name TEXT, age INTEGER); INSERT INTO people VALUES ('ann', 3);");
      db.close();
      expect(await codeOf(() => openSqliteFile(file))).toBe('UNSUPPORTED_FORMAT');
      // Same table names, but no vecsnap format marker.
      const lookalike = freshPath('lookalike');
      const db2 = new Database(lookalike);
      db2.exec("CREATE TABLE meta (key TEXT, value TEXT); CREATE TABLE vectors (id TEXT, vector BLOB, metadata TEXT); INSERT INTO meta VALUES ('dimension', '2');");
      db2.close();
      expect(await codeOf(() => openSqliteFile(lookalike))).toBe('UNSUPPORTED_FORMAT');
    });

    it('reports a file cut in half as CORRUPT_FILE (at open or while reading)', async () => {
      const big = makeData(3000, 64, 5);
      const { file } = await write(headerFor(64, 3000), chunked(big, 64, 1000));
      const size = statSync(file).size;
      expect(size).toBeGreaterThan(4 * 65536);
      for (const cut of [Math.floor(size / 2), size - 65536, 65536 + 100, 50]) {
        const copy = freshPath('cut');
        writeFileSync(copy, readFileSync(file).subarray(0, cut));
        const code = await codeOf(() => readAll(copy));
        expect(`cut at ${cut}: ${code}`).toBe(`cut at ${cut}: CORRUPT_FILE`);
      }
      // truncateSync on a copy too (the same damage made in place).
      const inPlace = freshPath('cut-in-place');
      writeFileSync(inPlace, readFileSync(file));
      truncateSync(inPlace, Math.floor(size / 2));
      expect(await codeOf(() => readAll(inPlace))).toBe('CORRUPT_FILE');
    });

    it('detects one changed byte in a vector BLOB (CHECKSUM_MISMATCH) unless verifyChecksum is false', async () => {
      const { file } = await write(headerFor(dim, 40), chunked(data, dim, 10));
      const db = new Database(file);
      const blob = db.prepare('SELECT vector FROM vectors WHERE rowid = 17').pluck().get() as Buffer;
      const changed = Buffer.from(blob);
      changed[5]! ^= 0x01;
      db.prepare('UPDATE vectors SET vector = ? WHERE rowid = 17').run(changed);
      db.close();
      const err = await readAll(file).then(
        () => undefined,
        (e: unknown) => e as { code?: string; message: string },
      );
      expect(err).toMatchObject({ code: 'CHECKSUM_MISMATCH', message: expect.stringMatching(/checksum/i) });
      const unchecked = await readAll(file, { verifyChecksum: false });
      expect(unchecked.ids).toEqual(data.ids);
      expect(bytes(unchecked.vectors).equals(bytes(data.vectors))).toBe(false);
      // A page read is straight from SQLite: it shows the changed bytes and checks nothing.
      const ds = openSqliteFile(file);
      expect(bytes(ds.page(16, 1).vectors).equals(changed)).toBe(true);
      ds.close();
    });

    it('detects a deleted row as CORRUPT_FILE and a newer format version as VERSION_UNSUPPORTED', async () => {
      const { file } = await write(headerFor(dim, 40), chunked(data, dim, 40));
      const db = new Database(file);
      db.prepare('DELETE FROM vectors WHERE rowid = 3').run();
      db.close();
      expect(await codeOf(() => readAll(file))).toBe('CORRUPT_FILE');
      const second = await write(headerFor(dim, 40), chunked(data, dim, 40));
      const db2 = new Database(second.file);
      db2.prepare("UPDATE meta SET value = '2' WHERE key = 'formatVersion'").run();
      db2.close();
      expect(await codeOf(() => openSqliteFile(second.file))).toBe('VERSION_UNSUPPORTED');
    });

    it('stops with ABORTED mid-write and leaves no file behind', async () => {
      const big = makeData(4000, 8, 9);
      const controller = new AbortController();
      const file = freshPath('aborted');
      const { source, handed } = abortingAt(chunked(big, 8, 100), 10, controller);
      expect(await codeOf(() => writeSqliteFile(file, headerFor(8, 4000), source, { signal: controller.signal }))).toBe('ABORTED');
      expect(handed()).toBeLessThan(40);
      for (const suffix of ['', '-journal', '-wal']) expect(existsSync(file + suffix)).toBe(false);
      expect(await codeOf(() => writeSqliteFile(file, headerFor(8, 4000), chunked(big, 8, 100), { signal: AbortSignal.abort() }))).toBe('ABORTED');
      expect(existsSync(file)).toBe(false);
    });

    describe('early write-back', () => {
      afterEach(() => vi.restoreAllMocks());

      it('asks the disk to write back while rows go in, and the file reads back whole', async () => {
        const calls = vi.spyOn(await fileHandlePrototype(dir), 'datasync');
        const big = makeData(4000, 8, 4);
        const file = freshPath('writeback');
        const summary = await writeSqliteFile(file, headerFor(8, 4000), chunked(big, 8, 100), { writebackEveryBytes: 16 * 1024 });
        expect(calls.mock.calls.length).toBeGreaterThanOrEqual(2);
        const back = await readAll(file);
        expect(back.ids).toEqual(big.ids);
        expect(Buffer.from(back.vectors.buffer).equals(Buffer.from(big.vectors.buffer))).toBe(true);
        expect(back.stored).toBe(summary.contentChecksum);
      });

      it('a failed write-back fails the write (IO_ERROR) and removes the file', async () => {
        vi.spyOn(await fileHandlePrototype(dir), 'datasync').mockRejectedValue(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
        const file = freshPath('writeback-failed');
        const big = makeData(4000, 8, 4);
        expect(await codeOf(() => writeSqliteFile(file, headerFor(8, 4000), chunked(big, 8, 100), { writebackEveryBytes: 16 * 1024 }))).toBe('IO_ERROR');
        expect(existsSync(file)).toBe(false);
      });
    });

    it('refuses to write over an existing path (IO_ERROR) and leaves that file untouched', async () => {
      const file = freshPath('existing');
      writeFileSync(file, 'precious');
      expect(await codeOf(() => writeSqliteFile(file, headerFor(dim, 40), chunked(data, dim, 10)))).toBe('IO_ERROR');
      expect(readFileSync(file, 'utf8')).toBe('precious');
      const { file: db } = await write(headerFor(dim, 40), chunked(data, dim, 10));
      const before = readFileSync(db);
      expect(await codeOf(() => writeSqliteFile(db, headerFor(dim, 1), []))).toBe('IO_ERROR');
      expect(readFileSync(db).equals(before)).toBe(true);
    });

    it('names a repeated id (INVALID_ARGUMENT) wherever it falls in the statements of 64 rows, and removes the file', async () => {
      const many = makeData(300, dim, 3);
      // Within one statement's rows, in the rows after the last full statement, and across chunks.
      for (const [at, copyOf] of [[40, 10], [290, 280], [250, 5]] as const) {
        const ids = [...many.ids];
        ids[at] = ids[copyOf]!;
        const file = freshPath(`dup-${at}`);
        const err = await writeSqliteFile(file, headerFor(dim, 300), chunked({ ...many, ids }, dim, 200)).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', message: `The id "${ids[copyOf]}" occurs twice; ids must be unique.` });
        expect(existsSync(file)).toBe(false);
      }
    });

    it('rejects a chunk of the wrong dimension and removes the partial file', async () => {
      const file = freshPath('bad-dim');
      const bad: EntryChunk = { ids: ['a', 'b'], vectors: new Float32Array(2 * dim + 1), metadata: [undefined, undefined] };
      expect(await codeOf(() => writeSqliteFile(file, headerFor(dim, 42), [...chunked(data, dim, 20), bad]))).toBe('DIMENSION_MISMATCH');
      expect(existsSync(file)).toBe(false);
    });

    it('every format writes only what it reads back: a lone surrogate is refused or survives exactly', async () => {
      // UTF-8 cannot hold "\uD800": SQLite and msgpack store U+FFFD instead. Binary refuses such ids
      // (INVALID_ARGUMENT); whatever a writer accepts must come back identical and pass its checksum.
      const cases: [string, EntryChunk][] = [
        ['id', { ids: ['ok', 'lone\uD800'], vectors: new Float32Array(4), metadata: [undefined, undefined] }],
        ['metadata value', { ids: ['ok', 'm'], vectors: new Float32Array(4), metadata: [undefined, { s: 'a\uDC00b' }] }],
      ];
      const outcomes: string[] = [];
      for (const [what, chunk] of cases) {
        const sqliteFile = freshPath('surrogate');
        const results: [string, () => Promise<Data>][] = [
          ['sqlite', async () => (await writeSqliteFile(sqliteFile, headerFor(2, 2), [chunk]), readAll(sqliteFile))],
          ...[binaryCodec, jsonCodec].map((codec): [string, () => Promise<Data>] => [
            codec.format,
            async () => {
              const { file } = await streamEncode(codec, headerFor(2, 2), [chunk]);
              return drain((await codec.decode((async function* () { yield file; })())).chunks);
            },
          ]),
        ];
        for (const [format, run] of results) {
          let outcome: string;
          try {
            const back = await run();
            outcome = JSON.stringify(back.ids) === JSON.stringify(chunk.ids) && JSON.stringify(back.metadata) === JSON.stringify(chunk.metadata)
              ? 'exact' : 'changed';
          } catch (err) {
            const code = (err as { code?: string }).code ?? 'raw';
            outcome = ['INVALID_ARGUMENT', 'INVALID_METADATA'].includes(code) ? 'refused' : code;
          }
          outcomes.push(`${format} ${what}: ${outcome}`);
        }
      }
      expect(outcomes.filter((o) => !/: (exact|refused)$/.test(o))).toEqual([]);
      expect(outcomes).toHaveLength(6);
    });
  });
}

/** Message ports that keep this process alive; a worker in use holds one. */
function liveMessagePorts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
}

describe('sqlite: writing on the writer thread', () => {
  const saved = sqliteWriteTuning.threadMinRows;
  afterEach(() => (sqliteWriteTuning.threadMinRows = saved));

  it('writes the very same bytes as inline', async () => {
    const data = makeData(5000, 24, 8);
    sqliteWriteTuning.threadMinRows = Infinity;
    const inline = await write(headerFor(24, 5000, { source: 'same' }), chunked(data, 24, 700));
    sqliteWriteTuning.threadMinRows = 0;
    const before = writerThreadStats.files;
    const threaded = await write(headerFor(24, 5000, { source: 'same' }), chunked(data, 24, 700));
    expect(writerThreadStats.files).toBe(before + 1);
    expect(threaded.summary).toEqual(inline.summary);
    expect(readFileSync(threaded.file).equals(readFileSync(inline.file))).toBe(true);
  });

  it('writes on the caller thread when the thread cannot load SQLite, the same bytes', async () => {
    const data = makeData(2000, 8, 6);
    sqliteWriteTuning.threadMinRows = Infinity;
    const inline = await write(headerFor(8, 2000), chunked(data, 8, 300));
    sqliteWriteTuning.threadMinRows = 0;
    const { files, fallbacks } = writerThreadStats;
    writerThreadFaults.failNextStart = true;
    const fallen = await write(headerFor(8, 2000), chunked(data, 8, 300));
    expect(writerThreadFaults.failNextStart).toBe(false);
    expect(writerThreadStats).toMatchObject({ files, fallbacks: fallbacks + 1 });
    expect(readFileSync(fallen.file).equals(readFileSync(inline.file))).toBe(true);
  });

  it('ends a transaction early when its ids and metadata grow long, and keeps every row in order', async () => {
    const saved = sqliteWriteTuning.maxBatchChars;
    sqliteWriteTuning.threadMinRows = 0;
    sqliteWriteTuning.maxBatchChars = 2000;
    try {
      const data = makeData(600, 8, 12);
      data.metadata = data.metadata.map((m, i) => (i % 7 === 3 ? { long: 'x'.repeat(900 + i) } : m));
      const progress: number[] = [];
      const file = freshPath('long-metadata');
      const summary = await writeSqliteFile(file, headerFor(8, 600), chunked(data, 8, 600), { onChunk: (n) => progress.push(n) });
      // One transaction of 600 rows without the cap; here every long text closes one.
      expect(progress.length).toBeGreaterThan(40);
      expect(progress.at(-1)).toBe(600);
      const back = await readAll(file);
      expect(back.ids).toEqual(data.ids);
      expect(back.metadata).toEqual(data.metadata);
      expect(back.stored).toBe(summary.contentChecksum);
    } finally {
      sqliteWriteTuning.maxBatchChars = saved;
    }
  });

  it('lets go of its thread after a write, a failed write and an abort', async () => {
    sqliteWriteTuning.threadMinRows = 0;
    const idle = liveMessagePorts();
    const data = makeData(3000, 8, 2);
    await write(headerFor(8, 3000), chunked(data, 8, 500));
    const ids = [...data.ids];
    ids[2999] = ids[0]!;
    const dup = freshPath('thread-dup');
    expect(await codeOf(() => writeSqliteFile(dup, headerFor(8, 3000), chunked({ ...data, ids }, 8, 500)))).toBe('INVALID_ARGUMENT');
    expect(existsSync(dup)).toBe(false);
    const controller = new AbortController();
    const aborted = freshPath('thread-abort');
    const { source } = abortingAt(chunked(data, 8, 100), 5, controller);
    expect(await codeOf(() => writeSqliteFile(aborted, headerFor(8, 3000), source, { signal: controller.signal }))).toBe('ABORTED');
    expect(existsSync(aborted)).toBe(false);
    expect(liveMessagePorts()).toBe(idle);
  });
});

describe('sqlite: reading on the reader thread', () => {
  const dim = 12;
  const data = makeData(300, dim, 5);
  const saved = sqliteReadTuning.threadMinComponents;
  // Every file goes through the thread here, however small.
  beforeEach(() => (sqliteReadTuning.threadMinComponents = 0));
  afterEach(() => (sqliteReadTuning.threadMinComponents = saved));

  it('reads exactly what the inline reader reads, in any batch size', async () => {
    const header = headerFor(dim, 300, { note: 'thread' });
    const { file, summary } = await write(header, chunked(data, dim, 64));
    const before = { ...readerThreadStats };
    for (const batchSize of [1, 7, 300, 5000]) {
      const back = await readAll(file, { batchSize });
      expectSameData(back, data);
      expect(Math.max(...back.sizes)).toBeLessThanOrEqual(batchSize);
      expect(back.stored).toBe(summary.contentChecksum);
      // Entries without metadata are undefined slots, never holes.
      expect(Object.keys(back.metadata).length).toBe(300);
    }
    // The batches really came from the thread: 300 + 43 + 1 + 1 of them, and no fallback.
    expect(readerThreadStats.batches - before.batches).toBe(300 + 43 + 1 + 1);
    expect(readerThreadStats.fallbacks).toBe(before.fallbacks);
    sqliteReadTuning.threadMinComponents = saved;
    expectSameData(await readAll(file, { batchSize: 7 }), data);
  });

  it('reports damage with the inline reader’s codes: a changed byte, a short vector, bad metadata, a missing row', async () => {
    const damage = async (sql: string, ...params: unknown[]): Promise<string> => {
      const { file } = await write(headerFor(dim, 300), chunked(data, dim, 100));
      const db = new Database(file);
      db.prepare(sql).run(...params);
      db.close();
      return codeOf(() => readAll(file, { batchSize: 50 }));
    };
    const blob = Buffer.from(data.vectors.buffer, 17 * dim * 4, dim * 4);
    const flipped = Buffer.from(blob);
    flipped[3]! ^= 0x10;
    expect(await damage('UPDATE vectors SET vector = ? WHERE rowid = 18', flipped)).toBe('CHECKSUM_MISMATCH');
    expect(await damage('UPDATE vectors SET vector = ? WHERE rowid = 120', Buffer.alloc(dim * 4 - 4))).toBe('CORRUPT_FILE');
    expect(await damage("UPDATE vectors SET metadata = '[1,2]' WHERE rowid = 260")).toBe('CORRUPT_FILE');
    expect(await damage('UPDATE vectors SET metadata = 7 WHERE rowid = 2')).toBe('CORRUPT_FILE');
    expect(await damage('UPDATE vectors SET id = ? WHERE rowid = 299', Buffer.from([0, 255]))).toBe('CORRUPT_FILE');
    expect(await damage('DELETE FROM vectors WHERE rowid = 151')).toBe('CORRUPT_FILE');
  });

  it('stops cleanly when the reader breaks off early, and the file reads again afterwards', async () => {
    const { file } = await write(headerFor(dim, 300), chunked(data, dim, 100));
    const ds = openSqliteFile(file);
    let seen = 0;
    for await (const chunk of ds.chunks({ batchSize: 10 })) {
      seen += chunk.ids.length;
      if (seen >= 30) break;
    }
    ds.close();
    expect(seen).toBe(30);
    expectSameData(await readAll(file, { batchSize: 100 }), data);
  });
});
