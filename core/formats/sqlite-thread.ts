import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { VecSnapError, type ErrorCode } from '../errors.js';

/**
 * Reads the rows of a VecSnap SQLite file on a worker thread. better-sqlite3 is synchronous: on
 * the main thread, fetching 100k rows (a Buffer per vector) takes ~170 ms of blocked event loop,
 * and 1M rows stall it for 200 ms at a time. On the worker, the next batch is fetched while the
 * main thread parses and stores the previous one; vectors arrive as transferred Float32Arrays.
 */
export interface RawRowBatch {
  ids: string[];
  vectors: Float32Array;
  /** The stored metadata text per row, null where there is none. */
  texts: (string | null)[];
}

/** The thread could not start or died: the caller reads on its own thread instead. */
export class ReaderThreadUnavailable extends Error {}

/** Files with fewer vector components than this (~20k × 384) are read inline: starting the thread and its connection costs ~30 ms, what reading 20k rows saves. */
export const sqliteReadTuning = { threadMinComponents: 8_000_000 };

/** Batches delivered by reader threads, and reads that fell back to the caller's thread. */
export const readerThreadStats = { batches: 0, fallbacks: 0 };

const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.modulePath);
const { path, dim, batch } = workerData;
const rowBytes = dim * 4;
const db = new Database(path, { readonly: true, fileMustExist: true });
const first = db.prepare('SELECT rowid, id, vector, metadata FROM vectors ORDER BY rowid LIMIT ?').raw().safeIntegers();
const next = db.prepare('SELECT rowid, id, vector, metadata FROM vectors WHERE rowid > ? ORDER BY rowid LIMIT ?').raw().safeIntegers();
let last;
const fail = (code, message) => ({ ok: false, error: { kind: 'vecsnap', code, message } });
function read() {
  const rows = last === undefined ? first.all(batch) : next.all(last, batch);
  if (rows.length === 0) return { ok: true, done: true };
  last = rows[rows.length - 1][0];
  const n = rows.length;
  const vectors = new Float32Array(n * dim);
  const bytes = new Uint8Array(vectors.buffer);
  const ids = new Array(n);
  const texts = new Array(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    const id = row[1], blob = row[2], text = row[3];
    if (typeof id !== 'string') return fail('CORRUPT_FILE', path + ' holds an id that is not text.');
    if (!(blob instanceof Uint8Array) || blob.length !== rowBytes) {
      const length = blob instanceof Uint8Array ? blob.length : 0;
      return fail('CORRUPT_FILE', 'The vector of "' + id + '" in ' + path + ' has ' + length + ' bytes; dimension ' + dim + ' needs ' + rowBytes + '.');
    }
    if (text !== null && typeof text !== 'string') return fail('CORRUPT_FILE', 'The metadata of "' + id + '" in ' + path + ' is not a JSON object.');
    bytes.set(blob, i * rowBytes);
    ids[i] = id;
    texts[i] = text;
  }
  return { ok: true, done: false, ids, vectors, texts };
}
parentPort.on('message', () => {
  let reply;
  try {
    reply = read();
  } catch (err) {
    reply = { ok: false, error: { kind: 'sqlite', code: String(err && err.code), message: String(err && err.message) } };
  }
  parentPort.postMessage(reply, reply.vectors ? [reply.vectors.buffer] : []);
});
`;

type Reply =
  | { ok: true; done: true }
  | { ok: true; done: false; ids: string[]; vectors: Float32Array; texts: (string | null)[] }
  | { ok: false; error: { kind: 'vecsnap' | 'sqlite'; code: string; message: string } };

/** A SQLite error a worker (reader or writer) caught, carrying its code for mapSqliteError. */
export class SqliteThreadError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export class SqliteReaderThread {
  private readonly worker: Worker;
  private pending: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  private inFlight: Promise<Reply> | undefined;
  private started = false;
  private closed = false;
  private failure: Error | undefined;

  constructor(path: string, dim: number, batch: number) {
    const modulePath = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, name: 'vecsnap-sqlite-reader', workerData: { modulePath, path, dim, batch } });
    this.worker.on('message', (reply: Reply) => {
      this.started = true;
      const p = this.pending;
      this.pending = undefined;
      p?.resolve(reply);
    });
    const lost = (err: Error): void => {
      // Before the first batch, the caller can still read the file itself.
      this.failure = this.started ? err : new ReaderThreadUnavailable(err.message);
      const p = this.pending;
      this.pending = undefined;
      p?.reject(this.failure);
    };
    this.worker.on('error', lost);
    this.worker.on('exit', () => {
      if (!this.closed) lost(new Error('The SQLite reader thread stopped.'));
    });
    this.request();
  }

  private request(): void {
    this.inFlight = new Promise<Reply>((resolve, reject) => {
      if (this.failure) reject(this.failure);
      else this.pending = { resolve, reject };
    });
    // Handled when awaited; a rejection while nobody waits must not crash the process.
    this.inFlight.catch(() => undefined);
    if (!this.failure) this.worker.postMessage('next');
  }

  /** The next batch in rowid order, or null at the end. The following one is fetched meanwhile. */
  async next(): Promise<RawRowBatch | null> {
    const reply = await this.inFlight!;
    if (!reply.ok) {
      const { kind, code, message } = reply.error;
      if (kind === 'vecsnap') throw new VecSnapError(code as ErrorCode, message);
      throw new SqliteThreadError(code, message);
    }
    if (reply.done) return null;
    readerThreadStats.batches++;
    this.request();
    return { ids: reply.ids, vectors: reply.vectors, texts: reply.texts };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // A batch may be in flight; terminate drops it along with the thread and its connection.
    void this.worker.terminate();
  }
}
