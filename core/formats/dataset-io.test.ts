import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { busyThreadPool, codeOf, expectSameDb, makeDb, tempDir } from '../test-helpers/fixtures.js';
import type { Compression, EntryChunk, Format } from '../types.js';
import { noQueuedReads } from '../io/shared-bytes.js';
import { VectorDB } from '../vector-db.js';
import { openDatasetFile, writeDatasetFile } from './dataset-io.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

const CASES: Array<[Format, Compression]> = [
  ['json', 'none'],
  ['json', 'gzip'],
  ['binary', 'none'],
  ['binary', 'brotli'],
  ['sqlite', 'none'],
  ['sqlite', 'gzip'],
];

describe('writeDatasetFile under abort', () => {
  // A write stream opens its file in the background; an abort that landed before that open
  // finished used to leave the temp file behind, created after the clean-up had removed it.
  // Uncompressed files this small are written whole; `gatherBytes: 0` streams them too.
  const RUNS = CASES.flatMap(([format, compression]): Array<[Format, Compression, number | undefined]> =>
    compression === 'none' && format !== 'sqlite' ? [[format, compression, undefined], [format, compression, 0]] : [[format, compression, undefined]],
  );
  for (const [format, compression, gatherBytes] of RUNS) {
    it(`leaves no file at all whenever the abort lands (${format}+${compression}${gatherBytes === 0 ? ', streamed' : ''})`, async () => {
      const db = makeDb(400, 8, 3);
      const header = { dimension: 8, metric: db.metric, count: db.size, createdAt: 1 };
      for (let round = 0; round < 12; round++) {
        // Every few rounds the thread pool is busy, so the temp file's open waits in its queue.
        const busy = round % 3 === 0 ? busyThreadPool(100_000) : undefined;
        const controller = new AbortController();
        const abortAfter = round % 4; // 0: before the first chunk is even asked for
        if (abortAfter === 0) controller.abort();
        let chunks = 0;
        const target = path.join(dir, `out-${round}`);
        const code = await codeOf(
          writeDatasetFile(target, {
            format,
            compression,
            header,
            chunks: db.readChunks(50),
            signal: controller.signal,
            ...(gatherBytes !== undefined ? { gatherBytes } : {}),
            onEntries: () => {
              if (++chunks === abortAfter) controller.abort();
            },
          }),
        );
        expect(code).toBe('ABORTED');
        await busy;
        expect(readdirSync(dir)).toEqual([]);
      }
    });
  }
});

describe('writeDatasetFile with recycled chunk memory', () => {
  /**
   * The database's chunks, passed on unchanged, counting the arrays they arrive in. Memory is
   * free again only once the hashing thread has read it, and on a loaded machine (CI runs test
   * files side by side on two cores) that thread may not run for the whole write: 24 chunks all
   * in new memory then says nothing about the writer. So once a chunk has been handed back, the
   * next one is asked for only when some handed-back memory is free. The waits share 5 s in
   * all; past them the assertion below fails as it should (the writer's `free` never came true).
   */
  async function* counted(source: Iterable<EntryChunk>, arrays: Set<ArrayBufferLike>, chunks: { n: number }): AsyncGenerator<EntryChunk> {
    const given: Array<{ memory: Float32Array; free: () => boolean }> = [];
    const reusable = (): boolean => given.some((g) => g.free() && noQueuedReads(g.memory));
    const iterator = source[Symbol.iterator]();
    const until = Date.now() + 5000;
    for (;;) {
      while (given.length > 0 && !reusable() && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const next = iterator.next();
      if (next.done) return;
      const chunk = next.value;
      arrays.add(chunk.vectors.buffer);
      chunks.n++;
      const recycle = chunk.recycle;
      yield recycle
        ? {
            ...chunk,
            recycle: (free) => {
              given.push({ memory: chunk.vectors, free });
              recycle(free);
            },
          }
        : chunk;
    }
  }

  async function readBack(file: string): Promise<VectorDB> {
    const dataset = await openDatasetFile(file);
    const db = new VectorDB({ dimension: dataset.header.dimension, metric: dataset.header.metric });
    try {
      for await (const chunk of dataset.chunks) {
        db.insertBatch(chunk.ids.map((id, i) => ({ id, vector: chunk.vectors.slice(i * db.dimension, (i + 1) * db.dimension), ...(chunk.metadata[i] ? { metadata: chunk.metadata[i] } : {}) })));
      }
    } finally {
      await dataset.close();
    }
    return db;
  }

  // Blocks of 128 KiB go to the file as views of the chunk's memory (binary), so that memory is
  // refilled only once the file has taken them; a stream holds several such blocks at a time.
  // Compressed, binary copies blocks into their records (the file's progress cannot be followed).
  const WRITERS: Array<[Format, Compression, boolean, 'reused' | 'not reused']> = [
    ['binary', 'none', true, 'reused'],
    ['binary', 'gzip', true, 'reused'],
    ['binary', 'brotli', true, 'reused'],
    ['json', 'none', true, 'reused'],
    ['sqlite', 'none', true, 'reused'],
    ['binary', 'none', false, 'not reused'],
  ];
  for (const [format, compression, recycle, expected] of WRITERS) {
    it(`writes every vector bit-identical with memory ${expected} (${format}+${compression}${recycle ? '' : ', plain chunks'})`, async () => {
      const db = makeDb(3000, 256, 4);
      const arrays = new Set<ArrayBufferLike>();
      const chunks = { n: 0 };
      const target = path.join(dir, `out.${format}`);
      const written = await writeDatasetFile(target, {
        format,
        compression,
        header: { dimension: 256, metric: db.metric, count: db.size, createdAt: 1 },
        chunks: counted(db.readChunks(128, { recycle }), arrays, chunks),
        // Streamed: a file written whole at the end (writeGathered) frees no memory before it.
        gatherBytes: 0,
      });
      expect(written.count).toBe(3000);
      expect(chunks.n).toBe(24);
      if (expected === 'reused') expect(arrays.size).toBeLessThan(chunks.n);
      else expect(arrays.size).toBe(chunks.n);
      expectSameDb(await readBack(target), db);
    });
  }
});

describe('writeDatasetFile without a file checksum', () => {
  // The main save asks for no SHA-256 of the file's bytes; everything else must be as with it.
  for (const [format, compression] of CASES) {
    it(`writes the same bytes and content checksum, and no sha256 (${format}+${compression})`, async () => {
      const db = makeDb(2000, 16, 5);
      const header = { dimension: 16, metric: db.metric, count: db.size, createdAt: 1 };
      const hashedFile = path.join(dir, `hashed.${format}`);
      const plainFile = path.join(dir, `plain.${format}`);
      const hashed = await writeDatasetFile(hashedFile, { format, compression, header, chunks: db.readChunks(300) });
      let lastBytes = 0;
      const plain = await writeDatasetFile(plainFile, {
        format,
        compression,
        header,
        chunks: db.readChunks(300),
        fileChecksum: false,
        onBytes: (b) => (lastBytes = b),
      });
      expect(plain.sha256).toBeUndefined();
      expect(hashed.sha256).toBe(createHash('sha256').update(readFileSync(hashedFile)).digest('hex'));
      expect(plain.bytes).toBe(statSync(plainFile).size);
      expect(plain.contentChecksum).toBe(hashed.contentChecksum);
      expect(plain.count).toBe(2000);
      // An uncompressed SQLite file is written by SQLite itself, past the byte counter; on every
      // other path the counted bytes reach the file's size. Streams without compression are
      // deterministic, so their files must be byte-equal.
      if (format !== 'sqlite' || compression !== 'none') expect(lastBytes).toBe(plain.bytes);
      if (compression === 'none' && format !== 'sqlite') expect(readFileSync(plainFile).equals(readFileSync(hashedFile))).toBe(true);
      const back = await openDatasetFile(plainFile, { verifyChecksum: true });
      try {
        let n = 0;
        for await (const chunk of back.chunks) n += chunk.ids.length;
        expect(n).toBe(2000);
        expect(back.header.count).toBe(2000);
      } finally {
        await back.close();
      }
    });
  }
});

describe('writeDatasetFile of a small uncompressed file (written whole)', () => {
  /** Chunks of `db`, noting whether the source's clean-up (a generator's finally) ran. */
  function* watched(db: VectorDB, per: number, state: { finished: boolean }): Generator<EntryChunk> {
    try {
      yield* db.readChunks(per);
    } finally {
      state.finished = true;
    }
  }

  for (const format of ['binary', 'json'] as const) {
    it(`writes the same bytes whole, streamed, and streamed after gathering part (${format})`, async () => {
      const db = makeDb(1500, 32, 6);
      const header = { dimension: 32, metric: db.metric, count: db.size, createdAt: 7 };
      const files: Record<string, string> = {};
      const sizes: number[] = [];
      // Whole (under the default limit), streamed from the start, and 10 KB gathered then streamed.
      for (const [name, gatherBytes] of [['whole', undefined], ['streamed', 0], ['part', 10_000]] as const) {
        files[name] = path.join(dir, `${name}.${format}`);
        let lastBytes = 0;
        const written = await writeDatasetFile(files[name]!, {
          format,
          compression: 'none',
          header,
          chunks: db.readChunks(100),
          onBytes: (b) => (lastBytes = b),
          ...(gatherBytes !== undefined ? { gatherBytes } : {}),
        });
        const bytes = readFileSync(files[name]!);
        expect(written.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
        expect(written.bytes).toBe(bytes.length);
        expect(lastBytes).toBe(bytes.length);
        expect(written.count).toBe(1500);
        sizes.push(bytes.length);
      }
      expect(sizes[0]).toBeGreaterThan(10_000);
      expect(readFileSync(files.streamed!)).toEqual(readFileSync(files.whole!));
      expect(readFileSync(files.part!)).toEqual(readFileSync(files.whole!));
      const dataset = await openDatasetFile(files.whole!);
      const ids: string[] = [];
      for await (const chunk of dataset.chunks) ids.push(...chunk.ids);
      await dataset.close();
      expect(ids).toEqual([...db.ids()]);
      expect(readdirSync(dir).sort()).toEqual(Object.values(files).map((f) => path.basename(f)).sort());
    });

    it(`an abort after part was gathered leaves no file and ends the chunk source (${format})`, async () => {
      const db = makeDb(2000, 32, 8);
      const header = { dimension: 32, metric: db.metric, count: db.size, createdAt: 7 };
      const controller = new AbortController();
      const source = { finished: false };
      let entries = 0;
      const code = await codeOf(
        writeDatasetFile(path.join(dir, `out.${format}`), {
          format,
          compression: 'none',
          header,
          chunks: watched(db, 100, source),
          signal: controller.signal,
          gatherBytes: 20_000,
          // Past the gathered part (each chunk of 100 × 32 is over 12 KB), while streaming.
          onEntries: (n) => {
            entries = n;
            if (n === 1000) controller.abort();
          },
        }),
      );
      expect(code).toBe('ABORTED');
      expect(entries).toBe(1000);
      expect(source.finished).toBe(true);
      expect(readdirSync(dir)).toEqual([]);
    });
  }

  for (const format of ['binary', 'json'] as const) {
    it(`ends the chunk source when the file fails to open or the stream stops while the gathered part is replayed (${format})`, async () => {
      const db = makeDb(2000, 32, 8);
      const header = { dimension: 32, metric: db.metric, count: db.size, createdAt: 7 };
      // The target's folder is missing: the open fails after the encoder has started.
      const missing = { finished: false };
      const code = await codeOf(
        writeDatasetFile(path.join(dir, 'no-such-folder', `out.${format}`), {
          format,
          compression: 'none',
          header,
          chunks: watched(db, 100, missing),
          gatherBytes: 20_000,
        }),
      );
      expect(code).toBe('NOT_FOUND');
      expect(missing.finished).toBe(true);
      // The abort lands at the first bytes counted, while the gathered buffers are replayed and
      // the encoder waits.
      const replayed = { finished: false };
      const controller = new AbortController();
      let counted = 0;
      const aborted = await codeOf(
        writeDatasetFile(path.join(dir, `out.${format}`), {
          format,
          compression: 'none',
          header,
          chunks: watched(db, 100, replayed),
          gatherBytes: 20_000,
          signal: controller.signal,
          onBytes: (bytes) => {
            counted = bytes;
            controller.abort();
          },
        }),
      );
      expect(aborted).toBe('ABORTED');
      expect(counted).toBeGreaterThan(0);
      expect(replayed.finished).toBe(true);
      expect(readdirSync(dir)).toEqual([]);
    });
  }

  it('hands recycled chunk memory back as free once the whole file is written', async () => {
    const db = makeDb(3000, 256, 4); // chunks of 128 KiB go to the file as views, not copies
    const frees: Array<() => boolean> = [];
    function* handedBack(): Generator<EntryChunk> {
      for (const chunk of db.readChunks(128, { recycle: true })) {
        const recycle = chunk.recycle!;
        yield { ...chunk, recycle: (free) => (frees.push(free), recycle(free)) };
      }
    }
    await writeDatasetFile(path.join(dir, 'out.bin'), {
      format: 'binary',
      compression: 'none',
      header: { dimension: 256, metric: db.metric, count: db.size, createdAt: 1 },
      chunks: handedBack(),
    });
    expect(frees.length).toBe(24);
    expect(frees.every((free) => free())).toBe(true);
  });

  it('a missing folder fails with NOT_FOUND and leaves nothing behind', async () => {
    const db = makeDb(10, 4, 1);
    const missing = path.join(dir, 'no-such-folder', 'out.bin');
    const code = await codeOf(
      writeDatasetFile(missing, {
        format: 'binary',
        compression: 'none',
        header: { dimension: 4, metric: db.metric, count: db.size, createdAt: 1 },
        chunks: db.readChunks(5),
      }),
    );
    expect(code).toBe('NOT_FOUND');
    expect(readdirSync(dir)).toEqual([]);
  });
});
