import { closeSync, openSync, readSync, fstatSync, promises as fs } from 'node:fs';
import Database from 'better-sqlite3';
import { VecSnapError, isVecSnapError, throwIfAborted, toVecSnapError } from '../errors.js';
import { yieldToEventLoop } from '../io/event-loop.js';
import { EarlyWriteback } from '../io/file-sink.js';
import type { DatasetHeader, EntryChunk, Metadata, Metric } from '../types.js';
import { METRICS } from '../types.js';
import type { ChunkSource, EncodeSummary } from './codec.js';
import { ContentDigest, utf8SafeMetadataJson } from './content-digest.js';
import { openRowSink, sqliteWriteTuning, type RowBatch, type RowSink } from './sqlite-writer.js';
import { ReaderThreadUnavailable, SqliteReaderThread, readerThreadStats, sqliteReadTuning, type RawRowBatch } from './sqlite-thread.js';

/**
 * The sqlite format (SPEC §4): a real SQLite database with
 *   meta(key TEXT PRIMARY KEY, value TEXT)              format, formatVersion, dimension, metric,
 *                                                       count, createdAt, metadata?, contentChecksum
 *   vectors(id TEXT PRIMARY KEY, vector BLOB, metadata TEXT)
 * Rows are inserted in entry order, so `ORDER BY rowid` is insertion order; `vector` holds the raw
 * little-endian float32 bytes, `metadata` the JSON text (NULL when the entry has none).
 */

/** The first 16 bytes of every SQLite database file. */
export const SQLITE_MAGIC: Buffer = Buffer.from('SQLite format 3\0', 'latin1');
const FORMAT_NAME = 'vecsnap-sqlite';
const FORMAT_VERSION = 1;
/** Rows per write transaction: 2048 × 384-d is ~3 MB, a few ms of synchronous work. */
const ROWS_PER_TRANSACTION = 2048;
/** Transactions handed to the writer at once: one being inserted, one ready behind it. */
const BATCHES_IN_FLIGHT = 2;
const DEFAULT_BATCH = 2048;

type SqliteDb = Database.Database;

function closeQuietly(db: SqliteDb | undefined): void {
  try {
    if (db?.open) db.close();
  } catch {
    // Nothing more can be done; the file is removed or abandoned by the caller.
  }
}

async function removeDbFiles(path: string): Promise<void> {
  for (const suffix of ['', '-journal', '-wal', '-shm']) {
    await fs.rm(path + suffix, { force: true }).catch(() => undefined);
  }
}

/** Every error from better-sqlite3 or the file system becomes a VecSnapError with a sentence. */
function mapSqliteError(err: unknown, action: string): VecSnapError {
  if (isVecSnapError(err)) return err;
  const raw = (err as { code?: unknown } | undefined)?.code;
  const code = typeof raw === 'string' ? raw : '';
  const detail = err instanceof Error ? err.message : String(err);
  if (!code.startsWith('SQLITE_')) return toVecSnapError(err, action);
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB' || code === 'SQLITE_IOERR_SHORT_READ') {
    return new VecSnapError('CORRUPT_FILE', `${action} failed: the SQLite file is damaged (${detail}).`, { cause: err });
  }
  if (code === 'SQLITE_FULL') return new VecSnapError('NO_SPACE', `${action} failed: the disk is full.`, { cause: err });
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return new VecSnapError('NOT_FOUND', `${action} failed: the SQLite file cannot be opened (${detail}).`, { cause: err });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new VecSnapError('BUSY', `${action} failed: the SQLite file is in use.`, { cause: err });
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    return new VecSnapError('IO_ERROR', `${action} failed: permission denied (${detail}).`, { cause: err });
  }
  return new VecSnapError('IO_ERROR', `${action} failed: ${detail} (${code}).`, { cause: err });
}

/** Checks the id (SQLite stores TEXT as UTF-8, so a lone surrogate would not come back) and serialises the metadata. */
function metadataJson(id: string, metadata: Metadata | undefined): string | null {
  if (typeof id !== 'string' || id.length === 0 || !id.isWellFormed()) {
    const shown = typeof id === 'string' ? `"${id.slice(0, 40)}"` : String(id);
    throw new VecSnapError('INVALID_ARGUMENT', `The id ${shown} cannot be stored: ids must be non-empty, well-formed text.`);
  }
  if (metadata === undefined || metadata === null) return null;
  try {
    return utf8SafeMetadataJson(id, metadata) ?? null;
  } catch (err) {
    if (err instanceof VecSnapError) throw err;
    throw new VecSnapError('INVALID_METADATA', `The metadata of "${id}" cannot be written as JSON (${(err as Error).message}).`);
  }
}

/**
 * Builds a NEW SQLite file at `path` (fails with IO_ERROR when something is already there). The
 * caller owns temp naming, fsync, rename and compression. Works one transaction of at most
 * 2048 rows at a time and yields to the event loop in between; abort or failure closes the
 * database and removes the partial file.
 */
export async function writeSqliteFile(
  path: string,
  header: DatasetHeader,
  chunks: ChunkSource,
  options: {
    signal?: AbortSignal;
    onChunk?: (entriesWritten: number) => void;
    /** Ask the disk to write back every this many bytes of rows (see EarlyWriteback). */
    writebackEveryBytes?: number;
  } = {},
): Promise<EncodeSummary> {
  const action = `Writing the SQLite file ${path}`;
  const { signal, onChunk } = options;
  const dim = header.dimension;
  if (!Number.isInteger(dim) || dim < 1 || dim > 65536 || !METRICS.includes(header.metric)) {
    throw new VecSnapError('INVALID_ARGUMENT', `${action} failed: dimension ${dim} / metric "${header.metric}" is not valid.`);
  }
  // Claim the path first: an existing file is never opened, changed or removed.
  try {
    closeSync(openSync(path, 'wx'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new VecSnapError('IO_ERROR', `Cannot create the SQLite file ${path}: a file is already there.`, { cause: err });
    }
    throw toVecSnapError(err, action);
  }
  let sink: RowSink | undefined;
  let handle: fs.FileHandle | undefined;
  let writeback: EarlyWriteback | undefined;
  /** Batches handed to the sink and not yet written, oldest first. */
  const inFlight: Promise<void>[] = [];
  try {
    throwIfAborted(signal, 'Writing the SQLite file');
    if (options.writebackEveryBytes !== undefined) {
      // A second descriptor of the same file: SQLite's pages reach the kernel through its own.
      // Pages written back are dropped as with every large write (file-sink.ts): a new file that
      // is kept otherwise grows the page cache into fresh memory. SQLite keeps the pages it still
      // changes in its own cache, and the caller reads the file back for its hash the same way.
      handle = await fs.open(path, 'r+');
      writeback = new EarlyWriteback(handle, options.writebackEveryBytes);
    }
    sink = await openRowSink(path, dim, header.count);
    const meta: [string, string][] = [
      ['format', FORMAT_NAME],
      ['formatVersion', String(FORMAT_VERSION)],
      ['dimension', String(dim)],
      ['metric', header.metric],
      ['count', String(header.count)],
      ['createdAt', String(header.createdAt)],
    ];
    if (header.metadata !== undefined) meta.push(['metadata', JSON.stringify(header.metadata)]);
    await sink.meta(meta);

    const rowBytes = dim * 4;
    /** Vector blocks back from the sink, refilled for later batches (fresh memory costs page faults). */
    const blocks: ArrayBuffer[] = [];
    const digest = new ContentDigest(dim);
    let count = 0;
    let written = 0;
    for await (const chunk of chunks) {
      const n = chunk.ids.length;
      if (chunk.vectors.length !== n * dim || chunk.metadata.length !== n) {
        throw new VecSnapError('DIMENSION_MISMATCH', `A block of ${n} entries does not hold ${n} vectors of dimension ${dim}.`);
      }
      for (let from = 0; from < n; ) {
        throwIfAborted(signal, 'Writing the SQLite file');
        let to = Math.min(n, from + ROWS_PER_TRANSACTION);
        const json: (string | null)[] = [];
        let chars = 0;
        for (let i = from; i < to; i++) {
          const text = metadataJson(chunk.ids[i]!, chunk.metadata[i]);
          json.push(text);
          chars += chunk.ids[i]!.length + (text?.length ?? 0);
          // A batch carries its ids and its metadata as one string each, and V8 caps a string
          // at 2^29 - 24 units: huge metadata ends the batch early.
          if (chars >= sqliteWriteTuning.maxBatchChars) to = i + 1;
        }
        const rows = to - from;
        const ids = chunk.ids.slice(from, to);
        const vectors = chunk.vectors.subarray(from * dim, to * dim);
        const metadata = chunk.metadata.slice(from, to);
        // Digest per slice: the content digest does not depend on chunking, and work stays bounded.
        digest.update({ ids, vectors, metadata }, json.map((j) => j ?? undefined));
        const block = blocks.pop() ?? new ArrayBuffer(ROWS_PER_TRANSACTION * rowBytes);
        new Float32Array(block, 0, rows * dim).set(vectors);
        const batch: RowBatch = {
          ids: ids.join(''),
          idLengths: Int32Array.from(ids, (id) => id.length),
          json: json.map((j) => j ?? '').join(''),
          jsonLengths: Int32Array.from(json, (j) => (j === null ? -1 : j.length)),
          vectors: block,
          count: rows,
        };
        count += rows;
        from = to;
        const done = sink.insert(batch).then((back) => {
          blocks.push(back);
          written += rows;
          writeback?.add(rows * rowBytes);
          onChunk?.(written);
        });
        // Awaited below in order; a later batch's failure must not go unhandled meanwhile.
        done.catch(() => undefined);
        inFlight.push(done);
        if (inFlight.length >= BATCHES_IN_FLIGHT) await inFlight.shift();
        await yieldToEventLoop();
      }
      // Every vector of the chunk was copied into a block above.
      chunk.recycle?.(() => true);
    }
    while (inFlight.length > 0) await inFlight.shift();
    throwIfAborted(signal, 'Writing the SQLite file');
    const contentChecksum = digest.digest();
    await sink.meta([
      ['count', String(count)],
      ['contentChecksum', contentChecksum],
    ]);
    await sink.close();
    sink = undefined;
    await writeback?.finish();
    await handle?.close();
    return { count, contentChecksum };
  } catch (err) {
    await sink?.abandon().catch(() => undefined);
    await writeback?.finish().catch(() => undefined);
    await handle?.close().catch(() => undefined);
    await removeDbFiles(path);
    throw mapSqliteError(err, action);
  }
}

export interface SqliteDataset {
  header: DatasetHeader;
  /** The content checksum stored in `meta`. */
  storedChecksum: string | undefined;
  /**
   * All entries in insertion order, `batchSize` (default 2048) per chunk. Draining it checks the
   * row count (CORRUPT_FILE) and, unless `verifyChecksum` is false, the content checksum
   * (CHECKSUM_MISMATCH) after the last chunk. Holds no statement open between chunks.
   */
  chunks(options?: { batchSize?: number; verifyChecksum?: boolean; signal?: AbortSignal }): AsyncIterable<EntryChunk>;
  /** Rows [offset, offset + limit) in insertion order, read straight from SQLite. */
  page(offset: number, limit: number): EntryChunk;
  /** The entry count recorded in `meta`. */
  count(): number;
  close(): void;
}

/**
 * Reads the 100-byte SQLite file header: not SQLite → UNSUPPORTED_FORMAT; a file shorter than
 * the size its header records → CORRUPT_FILE (truncated), before SQLite ever sees it.
 */
function checkFileHeader(path: string): void {
  let fd: number | undefined;
  let head = Buffer.alloc(100);
  let size: number;
  try {
    fd = openSync(path, 'r');
    size = fstatSync(fd).size;
    head = head.subarray(0, readSync(fd, head, 0, 100, 0));
  } catch (err) {
    throw toVecSnapError(err, `Opening ${path}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (head.length < SQLITE_MAGIC.length || !head.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) {
    throw new VecSnapError('UNSUPPORTED_FORMAT', `${path} is not a SQLite database.`);
  }
  if (head.length < 100) throw new VecSnapError('CORRUPT_FILE', `${path} is a truncated SQLite file (${size} bytes).`);
  const rawPageSize = head.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const pages = head.readUInt32BE(28);
  // The in-header page count is valid when the change counter matches "version-valid-for".
  if (head.readUInt32BE(24) === head.readUInt32BE(92) && pages > 0 && size < pages * pageSize) {
    throw new VecSnapError(
      'CORRUPT_FILE',
      `${path} is truncated: its header records ${pages * pageSize} bytes but the file has ${size}.`,
    );
  }
}

function columnsOf(db: SqliteDb, table: string): Set<string> {
  const rows = db.pragma(`table_info(${table})`) as { name: string }[];
  return new Set(rows.map((r) => r.name));
}

function readHeader(db: SqliteDb, path: string): { header: DatasetHeader; storedChecksum: string | undefined } {
  const alien = `${path} is a SQLite database, but not one written by VecSnap (no vecsnap meta and vectors tables).`;
  const meta = columnsOf(db, 'meta');
  const vectors = columnsOf(db, 'vectors');
  if (!meta.has('key') || !meta.has('value') || !['id', 'vector', 'metadata'].every((c) => vectors.has(c))) {
    throw new VecSnapError('UNSUPPORTED_FORMAT', alien);
  }
  const rows = db.prepare('SELECT key, value FROM meta').raw().all() as [unknown, unknown][];
  const values = new Map<string, string>();
  for (const [key, value] of rows) if (typeof key === 'string') values.set(key, String(value));
  if (values.get('format') !== FORMAT_NAME) throw new VecSnapError('UNSUPPORTED_FORMAT', alien);
  const version = Number(values.get('formatVersion'));
  if (!Number.isInteger(version) || version < 1) {
    throw new VecSnapError('CORRUPT_FILE', `${path} has no valid format version in its meta table.`);
  }
  if (version > FORMAT_VERSION) {
    throw new VecSnapError(
      'VERSION_UNSUPPORTED',
      `${path} uses SQLite format version ${version}; this VecSnap reads version ${FORMAT_VERSION}. Update VecSnap to open it.`,
    );
  }
  const dimension = Number(values.get('dimension'));
  const metric = values.get('metric') as Metric;
  const count = Number(values.get('count'));
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 65536 || !METRICS.includes(metric)) {
    throw new VecSnapError('CORRUPT_FILE', `${path} records an invalid dimension or metric in its meta table.`);
  }
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new VecSnapError('CORRUPT_FILE', `${path} records an invalid entry count in its meta table.`);
  }
  const storedChecksum = values.get('contentChecksum');
  if (storedChecksum === undefined || !/^[0-9a-f]{64}$/.test(storedChecksum)) {
    throw new VecSnapError('CORRUPT_FILE', `${path} has no valid content checksum: it was not written to the end.`);
  }
  const createdAt = Number(values.get('createdAt'));
  const header: DatasetHeader = { dimension, metric, count, createdAt: Number.isFinite(createdAt) ? createdAt : 0 };
  const userMetadata = values.get('metadata');
  if (userMetadata !== undefined) {
    const parsed = parseObject(userMetadata);
    if (parsed === undefined) throw new VecSnapError('CORRUPT_FILE', `${path} has unreadable dataset metadata.`);
    header.metadata = parsed;
  }
  return { header, storedChecksum };
}

function parseObject(text: string): Metadata | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Metadata) : undefined;
  } catch {
    return undefined;
  }
}

/** A raw result row; `first` is the index of its `id` column (then `vector`, `metadata`). */
type Row = unknown[];

function prepareReads(db: SqliteDb) {
  const rows = 'SELECT id, vector, metadata FROM vectors';
  return {
    pageByRowid: db.prepare(`${rows} WHERE rowid > ? ORDER BY rowid LIMIT ?`).raw(),
    pageByOffset: db.prepare(`${rows} ORDER BY rowid LIMIT ? OFFSET ?`).raw(),
    // rowid as bigint: a tampered file's huge rowids must not lose precision and repeat rows.
    firstBatch: db.prepare('SELECT rowid, id, vector, metadata FROM vectors ORDER BY rowid LIMIT ?').raw().safeIntegers(),
    nextBatch: db
      .prepare('SELECT rowid, id, vector, metadata FROM vectors WHERE rowid > ? ORDER BY rowid LIMIT ?')
      .raw()
      .safeIntegers(),
  };
}

/** Opens a VecSnap SQLite file read-only. Reads only `meta` (and two rowid look-ups) up front. */
export function openSqliteFile(path: string): SqliteDataset {
  checkFileHeader(path);
  let db: SqliteDb;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw mapSqliteError(err, `Opening ${path}`);
  }
  let header: DatasetHeader;
  let storedChecksum: string | undefined;
  let denseRowids: boolean;
  let stmts: ReturnType<typeof prepareReads>;
  try {
    ({ header, storedChecksum } = readHeader(db, path));
    // Our writer numbers rows 1..n; then a page is a rowid range seek instead of an OFFSET scan.
    // count(*) runs over the small id index (~1 ms per 100k rows); first/last are b-tree seeks.
    const rows = db.prepare('SELECT count(*) FROM vectors').pluck().get();
    const first = db.prepare('SELECT rowid FROM vectors ORDER BY rowid LIMIT 1').pluck().get();
    const last = db.prepare('SELECT rowid FROM vectors ORDER BY rowid DESC LIMIT 1').pluck().get();
    denseRowids = rows === 0 || (first === 1 && last === rows);
    stmts = prepareReads(db);
  } catch (err) {
    closeQuietly(db);
    throw mapSqliteError(err, `Reading ${path}`);
  }
  const { pageByRowid, pageByOffset, firstBatch, nextBatch } = stmts;
  const dim = header.dimension;
  const rowBytes = dim * 4;
  const action = `Reading ${path}`;

  /** Converts raw rows into a chunk; `json` receives the stored metadata text for the digest. */
  const toChunk = (rows: Row[], first: number, json?: (string | undefined)[]): EntryChunk => {
    const n = rows.length;
    const vectors = new Float32Array(n * dim);
    const bytes = new Uint8Array(vectors.buffer);
    const ids: string[] = [];
    const metadata: (Metadata | undefined)[] = []; // dense: no holes where entries have none
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      const id = row[first];
      const blob = row[first + 1];
      const text = row[first + 2];
      if (typeof id !== 'string') throw new VecSnapError('CORRUPT_FILE', `${path} holds an id that is not text.`);
      if (!(blob instanceof Uint8Array) || blob.length !== rowBytes) {
        const length = blob instanceof Uint8Array ? blob.length : 0;
        throw new VecSnapError(
          'CORRUPT_FILE',
          `The vector of "${id}" in ${path} has ${length} bytes; dimension ${dim} needs ${rowBytes}.`,
        );
      }
      bytes.set(blob, i * rowBytes);
      ids.push(id);
      if (text === null) metadata.push(undefined);
      else {
        const parsed = typeof text === 'string' ? parseObject(text) : undefined;
        if (parsed === undefined) throw new VecSnapError('CORRUPT_FILE', `The metadata of "${id}" in ${path} is not a JSON object.`);
        metadata.push(parsed);
      }
      if (json) json[i] = text === null ? undefined : (text as string);
    }
    return { ids, vectors, metadata };
  };

  /** A batch read by the reader thread (ids, vectors and texts already checked there). */
  const fromRawBatch = (raw: RawRowBatch): EntryChunk => {
    // Dense like toChunk's: every slot set, undefined where an entry has no metadata.
    const metadata: (Metadata | undefined)[] = new Array<Metadata | undefined>(raw.ids.length).fill(undefined);
    for (let i = 0; i < raw.ids.length; i++) {
      const text = raw.texts[i];
      if (text === null || text === undefined) continue;
      const parsed = parseObject(text);
      if (parsed === undefined) throw new VecSnapError('CORRUPT_FILE', `The metadata of "${raw.ids[i]}" in ${path} is not a JSON object.`);
      metadata[i] = parsed;
    }
    return { ids: raw.ids, vectors: raw.vectors, metadata };
  };


  return {
    header,
    storedChecksum,
    async *chunks(options = {}) {
      const batch = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH));
      const digest = options.verifyChecksum === false ? undefined : new ContentDigest(dim);
      let read = 0;
      const counted = (n: number): void => {
        read += n;
        if (read > header.count) {
          throw new VecSnapError('CORRUPT_FILE', `${path} holds more vectors than the ${header.count} its meta table records.`);
        }
      };
      let thread: SqliteReaderThread | undefined;
      if (header.count * dim >= sqliteReadTuning.threadMinComponents) {
        try {
          thread = new SqliteReaderThread(path, dim, batch);
        } catch {
          thread = undefined; // no worker threads here: read inline
        }
      }
      try {
        while (thread) {
          throwIfAborted(options.signal, 'Reading the SQLite file');
          let raw: RawRowBatch | null;
          try {
            raw = await thread.next();
          } catch (err) {
            if (err instanceof ReaderThreadUnavailable && read === 0) {
              readerThreadStats.fallbacks++;
              thread.close();
              thread = undefined;
              break;
            }
            throw mapSqliteError(err, action);
          }
          if (raw === null) break;
          const chunk = fromRawBatch(raw);
          counted(chunk.ids.length);
          digest?.update(chunk, raw.texts.map((t) => t ?? undefined));
          yield chunk;
          // The next batch has usually arrived already, and awaiting a settled promise does not
          // let the event loop run: without this a consumer would take many batches in one turn.
          await yieldToEventLoop();
        }
        // Keyset paging: each batch is one short statement, so nothing stays open while the consumer
        // holds a chunk, and `break`, `page()` or `close()` in between are always safe.
        let lastRowid: bigint | undefined;
        while (!thread) {
          throwIfAborted(options.signal, 'Reading the SQLite file');
          let chunk: EntryChunk;
          try {
            const rows = (lastRowid === undefined ? firstBatch.all(batch) : nextBatch.all(lastRowid, batch)) as Row[];
            if (rows.length === 0) break;
            lastRowid = rows[rows.length - 1]![0] as bigint;
            const json = new Array<string | undefined>(rows.length);
            chunk = toChunk(rows, 1, json);
            counted(rows.length);
            digest?.update(chunk, json);
          } catch (err) {
            throw mapSqliteError(err, action);
          }
          yield chunk;
          await yieldToEventLoop();
        }
      } finally {
        thread?.close();
      }
      throwIfAborted(options.signal, 'Reading the SQLite file');
      if (read !== header.count) {
        throw new VecSnapError('CORRUPT_FILE', `${path} holds ${read} vectors but its meta table records ${header.count}.`);
      }
      if (digest && digest.digest() !== storedChecksum) {
        throw new VecSnapError(
          'CHECKSUM_MISMATCH',
          `The content checksum of ${path} does not match its data: the file was changed or damaged.`,
        );
      }
    },
    page(offset, limit) {
      if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(limit) || limit < 0) {
        throw new VecSnapError('INVALID_ARGUMENT', `A page needs a non-negative offset and limit (got ${offset}, ${limit}).`);
      }
      try {
        const rows = (denseRowids ? pageByRowid.all(offset, limit) : pageByOffset.all(limit, offset)) as Row[];
        return toChunk(rows, 0);
      } catch (err) {
        throw mapSqliteError(err, action);
      }
    },
    count() {
      return header.count;
    },
    close() {
      closeQuietly(db);
    },
  };
}
