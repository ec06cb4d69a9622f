import { rmSync, truncateSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { VecSnapError, type ErrorCode } from '../errors.js';
import { SqliteThreadError } from './sqlite-thread.js';

/**
 * Inserts the rows of a new VecSnap SQLite file, on a worker thread for large files.
 *
 * better-sqlite3 is synchronous, and the unique index behind `id TEXT PRIMARY KEY` (SPEC §4) makes
 * every insert a search of it: 1M rows of 128 dimensions took ~1.4 s inside SQLite, while the
 * caller's own work per row (metadata JSON, content digest, copying vectors) took ~0.6 s more on
 * the same thread. On a worker the two overlap: the caller prepares the next batch while SQLite
 * inserts this one. Batches travel as one string of ids, one of metadata texts (with lengths)
 * and a vector block that is transferred there and back, so no memory is allocated per batch.
 */

const PAGE_SIZE = 65536;
/**
 * Rows per INSERT statement: each run() of better-sqlite3 costs a call into C++ and a VDBE start
 * on top of the row itself. 1M rows of 128 dimensions took 1.73-1.77 s one per statement and
 * 1.49 s 64 per statement (SQLite allows 32,766 parameters per statement; this uses 192).
 */
const ROWS_PER_STATEMENT = 64;

/**
 * Files of fewer rows are written on the caller's thread. The thread pays off where SQLite's work
 * per row dominates: 1M × 128 saved in 2.6 s against 3.0 s inline, 300k × 128 in 0.88 s against
 * 0.97 s; at 100k rows the extra copy of each vector block, the thread's start (~30 ms) and three
 * busy threads on two cores cost more than the overlap gains (100k × 384: 0.74 s against 0.62 s).
 */
export const sqliteWriteTuning = {
  threadMinRows: 250_000,
  /** Id and metadata text per transaction at most (UTF-16 units), far below V8's string limit. */
  maxBatchChars: 64 * 1024 * 1024,
};

/** Files written on a writer thread, and writes that had to stay on the caller's thread. */
export const writerThreadStats = { files: 0, fallbacks: 0 };

/** One write transaction's rows. `idLengths`/`jsonLengths` cut the joined texts; -1 is a NULL metadata. */
export interface RowBatch {
  ids: string;
  idLengths: Int32Array;
  json: string;
  jsonLengths: Int32Array;
  /** `count * dim` float32 values at the start of this buffer. */
  vectors: ArrayBuffer;
  count: number;
}

/** What the row writer throws for a duplicate id, carried across the thread as plain data. */
interface RowWriterFailure {
  vecsnapCode?: string;
  code?: string;
  message: string;
}

/**
 * Opens `path` (already created, empty) as a new VecSnap SQLite database and returns its writer.
 * Self-contained: its source text also runs on the worker thread, so it uses nothing from outside.
 */
function openRowWriter(SqliteDatabase: typeof Database, path: string, dim: number, pageSize: number, perStatement: number) {
  const db = new SqliteDatabase(path);
  const prepare = () => {
    // A temp file that the caller fsyncs and renames needs no journal or syncing of its own.
    db.pragma('page_size = ' + pageSize);
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('cache_size = -32768');
    db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);' + 'CREATE TABLE vectors (id TEXT PRIMARY KEY, vector BLOB, metadata TEXT);');
    const setMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    return {
      writeMeta: db.transaction((pairs: [string, string][]) => {
        for (const [key, value] of pairs) setMeta.run(key, value);
      }),
      insert: db.prepare('INSERT INTO vectors (id, vector, metadata) VALUES (?, ?, ?)'),
      insertMany: db.prepare('INSERT INTO vectors (id, vector, metadata) VALUES ' + new Array(perStatement).fill('(?, ?, ?)').join(', ')),
      removeAfter: db.prepare('DELETE FROM vectors WHERE rowid > ?'),
    };
  };
  let statements: ReturnType<typeof prepare>;
  try {
    statements = prepare();
  } catch (err) {
    // Closed here, so the caller can remove the file (Windows refuses while it is open).
    db.close();
    throw err;
  }
  const { writeMeta, insert, insertMany, removeAfter } = statements;
  const manyArgs: unknown[] = new Array(perStatement * 3);
  const rowBytes = dim * 4;
  const isConstraint = (err: unknown): boolean => String((err as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT');
  const insertOne = (id: string, vector: Buffer, json: string | null): void => {
    try {
      insert.run(id, vector, json);
    } catch (err) {
      if (isConstraint(err)) {
        const failure: RowWriterFailure = { vecsnapCode: 'INVALID_ARGUMENT', message: 'The id "' + id + '" occurs twice; ids must be unique.' };
        throw failure;
      }
      throw err;
    }
  };
  /** `before`: rows already in the table, which are also the highest rowid (rows are only added). */
  const insertRows = db.transaction((ids: string[], bytes: Buffer, json: (string | null)[], before: number) => {
    const row = (i: number): Buffer => bytes.subarray(i * rowBytes, (i + 1) * rowBytes);
    let i = 0;
    for (; i + perStatement <= ids.length; i += perStatement) {
      for (let k = 0; k < perStatement; k++) {
        manyArgs[3 * k] = ids[i + k];
        manyArgs[3 * k + 1] = row(i + k);
        manyArgs[3 * k + 2] = json[i + k];
      }
      try {
        insertMany.run(manyArgs);
      } catch (err) {
        if (!isConstraint(err)) throw err;
        // Row by row names the duplicate id. SQLite undoes the failed statement's rows, but with
        // the journal off (above) that is not promised, so any it kept are removed first.
        removeAfter.run(before + i);
        for (let k = 0; k < perStatement; k++) insertOne(ids[i + k]!, row(i + k), json[i + k]!);
        throw err;
      }
    }
    for (; i < ids.length; i++) insertOne(ids[i]!, row(i), json[i]!);
  });
  const cut = (text: string, lengths: Int32Array): (string | null)[] => {
    const out: (string | null)[] = new Array(lengths.length);
    let at = 0;
    for (let i = 0; i < lengths.length; i++) {
      const n = lengths[i]!;
      if (n < 0) out[i] = null;
      else {
        out[i] = text.slice(at, at + n);
        at += n;
      }
    }
    return out;
  };
  let rows = 0;
  return {
    meta(pairs: [string, string][]): void {
      writeMeta(pairs);
    },
    insert(batch: RowBatch): void {
      const ids = cut(batch.ids, batch.idLengths) as string[];
      const json = cut(batch.json, batch.jsonLengths);
      insertRows(ids, Buffer.from(batch.vectors, 0, batch.count * rowBytes), json, rows);
      rows += batch.count;
    },
    close(): void {
      db.close();
    },
    abandon(): void {
      try {
        if (db.open) db.close();
      } catch {
        // The caller removes the file.
      }
    },
  };
}

type RowWriter = ReturnType<typeof openRowWriter>;

const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.modulePath);
const openRowWriter = ${openRowWriter.toString()};
let writer;
const failure = (err) => ({
  ok: false,
  error: { vecsnapCode: err && err.vecsnapCode, code: err && err.code !== undefined ? String(err.code) : undefined, message: String((err && err.message) || err) },
});
parentPort.on('message', (m) => {
  let reply;
  try {
    if (m.op === 'open') writer = openRowWriter(Database, m.path, m.dim, m.pageSize, m.perStatement);
    else if (m.op === 'insert') writer.insert(m.batch);
    else if (m.op === 'meta') writer.meta(m.pairs);
    else if (m.op === 'close') writer.close();
    reply = { ok: true };
  } catch (err) {
    if (writer && m.op !== 'close') writer.abandon();
    reply = failure(err);
  }
  // The vector block goes back for the next batch, whatever happened.
  const vectors = m.op === 'insert' ? m.batch.vectors : undefined;
  parentPort.postMessage(vectors ? { ...reply, vectors } : reply, vectors ? [vectors] : []);
});
`;

type Reply = { ok: true; vectors?: ArrayBuffer } | { ok: false; error: RowWriterFailure; vectors?: ArrayBuffer };

/** The writer's failure as the error it stands for: a VecSnapError, or an error with SQLite's code for mapSqliteError. */
function toError(failure: RowWriterFailure | unknown): Error {
  const f = failure as RowWriterFailure;
  if (f && typeof f === 'object' && typeof f.message === 'string' && !(failure instanceof Error)) {
    if (f.vecsnapCode) return new VecSnapError(f.vecsnapCode as ErrorCode, f.message);
    return new SqliteThreadError(f.code ?? '', f.message);
  }
  return failure as Error;
}

/** Where batches go: the worker thread, or the caller's own thread for small files. */
export interface RowSink {
  meta(pairs: [string, string][]): Promise<void>;
  /** Resolves with the batch's vector block, free for the next batch, once its rows are in. */
  insert(batch: RowBatch): Promise<ArrayBuffer>;
  close(): Promise<void>;
  /** Stops at once (abort, failure) and lets go of the file, which the caller then removes. */
  abandon(): Promise<void>;
}

class InlineRowSink implements RowSink {
  private readonly writer: RowWriter;

  constructor(path: string, dim: number) {
    this.writer = openRowWriter(Database, path, dim, PAGE_SIZE, ROWS_PER_STATEMENT);
  }

  async meta(pairs: [string, string][]): Promise<void> {
    this.run(() => this.writer.meta(pairs));
  }

  async insert(batch: RowBatch): Promise<ArrayBuffer> {
    this.run(() => this.writer.insert(batch));
    return batch.vectors;
  }

  async close(): Promise<void> {
    this.writer.close();
  }

  async abandon(): Promise<void> {
    this.writer.abandon();
  }

  private run(step: () => void): void {
    try {
      step();
    } catch (err) {
      this.writer.abandon();
      throw toError(err);
    }
  }
}

/** Test hook: the next writer thread cannot load SQLite, as in a package that left the module out. */
export const writerThreadFaults = { failNextStart: false };

/** The thread could not start or load SQLite before it opened the file: the caller writes inline. */
class WriterThreadUnavailable extends Error {}

class ThreadRowSink implements RowSink {
  private readonly worker: Worker;
  /** Replies arrive in the order requests were posted. */
  private readonly waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;
  private opened = false;
  private closed = false;
  /** Settles once the worker opened the file (or could not). */
  readonly ready: Promise<void>;

  constructor(path: string, dim: number) {
    let modulePath = createRequire(import.meta.url).resolve('better-sqlite3');
    if (writerThreadFaults.failNextStart) {
      writerThreadFaults.failNextStart = false;
      modulePath += '.missing';
    }
    this.worker = new Worker(WORKER_SOURCE, { eval: true, name: 'vecsnap-sqlite-writer', workerData: { modulePath } });
    this.worker.on('message', (reply: Reply) => this.waiting.shift()?.resolve(reply));
    const lost = (err: Error): void => {
      // Before the file is open, the caller can still write it on its own thread.
      this.failure ??= this.opened ? err : new WriterThreadUnavailable(err.message);
      for (const w of this.waiting.splice(0)) w.reject(this.failure);
    };
    this.worker.on('error', lost);
    this.worker.on('exit', () => {
      if (!this.closed) lost(new VecSnapError('IO_ERROR', 'The SQLite writer thread stopped.'));
    });
    this.ready = this.request({ op: 'open', path, dim, pageSize: PAGE_SIZE, perStatement: ROWS_PER_STATEMENT }).then(() => {
      this.opened = true;
    });
  }

  private request(message: object, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    try {
      this.worker.postMessage(message, transfer);
    } catch (err) {
      // Nothing was posted, so no reply will come: every later request fails the same way.
      this.failure = err as Error;
      return Promise.reject(this.failure);
    }
    const reply = new Promise<Reply>((resolve, reject) => this.waiting.push({ resolve, reject }));
    return reply.then((r) => {
      if (r.ok) return r;
      // The first failure (the open's, say) is what every later request reports.
      this.failure ??= toError(r.error);
      throw this.failure;
    });
  }

  async meta(pairs: [string, string][]): Promise<void> {
    await this.request({ op: 'meta', pairs });
  }

  async insert(batch: RowBatch): Promise<ArrayBuffer> {
    const reply = await this.request({ op: 'insert', batch }, [batch.vectors]);
    return reply.vectors!;
  }

  async close(): Promise<void> {
    try {
      await this.request({ op: 'close' });
    } finally {
      await this.abandon();
    }
  }

  async abandon(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A batch may be in flight: terminate drops it, along with the thread and its connection;
    // requests still waiting are never answered and nobody awaits them any more.
    await this.worker.terminate();
  }
}

/** A row sink for a new, empty file at `path` of about `rows` rows. */
export async function openRowSink(path: string, dim: number, rows: number): Promise<RowSink> {
  if (rows >= sqliteWriteTuning.threadMinRows) {
    let sink: ThreadRowSink | undefined;
    try {
      sink = new ThreadRowSink(path, dim);
      await sink.ready;
      writerThreadStats.files++;
      return sink;
    } catch (err) {
      await sink?.abandon();
      // A real failure to open the file is the caller's; a thread that could not run is not.
      if (sink && !(err instanceof WriterThreadUnavailable)) throw err;
      writerThreadStats.fallbacks++;
      // The thread may have begun the file before it died; the path is ours (claimed empty).
      truncateSync(path, 0);
      rmSync(path + '-journal', { force: true });
    }
  }
  return new InlineRowSink(path, dim);
}
