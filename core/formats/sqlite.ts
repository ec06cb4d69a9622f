import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { VecSnapError, isVecSnapError, throwIfAborted } from '../errors.js';
import { removeQuietly } from '../io/atomic-write.js';
import type { DatasetHeader, EntryChunk, Metadata } from '../types.js';
import { METRICS } from '../types.js';
import type { ChunkSource, EncodeSummary } from './codec.js';
import { ContentDigest, jsonOrUndefined } from './content-digest.js';

/** The first 16 bytes of every SQLite database file. */
export const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const FORMAT_NAME = 'vecsnap-sqlite';
const VERSION = 1;
/** Rows per transaction when writing: keeps each synchronous slice of work short. */
const ROWS_PER_TRANSACTION = 2048;

type SqliteDb = Database.Database;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function mapSqliteError(err: unknown, action: string): VecSnapError {
  if (isVecSnapError(err)) return err;
  const code = (err as { code?: string }).code ?? '';
  const detail = (err as Error).message ?? String(err);
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT_VTAB') {
    return new VecSnapError('CORRUPT_FILE', `${action} failed: the SQLite file is damaged (${detail}).`, { cause: err });
  }
  if (code === 'SQLITE_FULL') return new VecSnapError('NO_SPACE', `${action} failed: the disk is full.`, { cause: err });
  if (code === 'SQLITE_CANTOPEN') return new VecSnapError('NOT_FOUND', `${action} failed: the file cannot be opened.`, { cause: err });
  return new VecSnapError('IO_ERROR', `${action} failed: ${detail}`, { cause: err });
}

/**
 * Builds a new SQLite file: `meta(key, value)` and `vectors(id, vector, metadata)` in insertion
 * order (rowid). The caller owns temp naming, fsync, rename and compression.
 */
export async function writeSqliteFile(
  path: string,
  header: DatasetHeader,
  chunks: ChunkSource,
  options: { signal?: AbortSignal; onChunk?: (entriesWritten: number) => void } = {},
): Promise<EncodeSummary> {
  if (existsSync(path)) throw new VecSnapError('IO_ERROR', `Cannot create ${path}: a file is already there.`);
  let db: SqliteDb | undefined;
  try {
    db = new Database(path);
    // A temp file that is fsynced and renamed by the caller needs no journal of its own.
    db.pragma('page_size = 65536');
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE vectors (id TEXT PRIMARY KEY, vector BLOB NOT NULL, metadata TEXT);`);
    const setMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    const insert = db.prepare('INSERT INTO vectors (id, vector, metadata) VALUES (?, ?, ?)');
    const writeMeta = db.transaction((pairs: [string, string][]) => {
      for (const [k, v] of pairs) setMeta.run(k, v);
    });
    writeMeta([
      ['format', FORMAT_NAME],
      ['formatVersion', String(VERSION)],
      ['dimension', String(header.dimension)],
      ['metric', header.metric],
      ['count', String(header.count)],
      ['createdAt', String(header.createdAt)],
      ...(header.metadata !== undefined ? [['metadata', JSON.stringify(header.metadata)] as [string, string]] : []),
    ]);
    const dim = header.dimension;
    const insertRows = db.transaction((chunk: EntryChunk, json: (string | undefined)[], from: number, to: number) => {
      const bytes = Buffer.from(chunk.vectors.buffer, chunk.vectors.byteOffset, chunk.vectors.byteLength);
      for (let i = from; i < to; i++) insert.run(chunk.ids[i], bytes.subarray(i * dim * 4, (i + 1) * dim * 4), json[i] ?? null);
    });
    const digest = new ContentDigest(dim);
    let count = 0;
    for await (const chunk of chunks) {
      const n = chunk.ids.length;
      if (chunk.vectors.length !== n * dim) {
        throw new VecSnapError('DIMENSION_MISMATCH', `A block of ${n} vectors does not have dimension ${dim}.`);
      }
      const json = chunk.metadata.map(jsonOrUndefined);
      digest.update(chunk, json);
      for (let from = 0; from < n; from += ROWS_PER_TRANSACTION) {
        throwIfAborted(options.signal, 'Writing the SQLite file');
        const to = Math.min(n, from + ROWS_PER_TRANSACTION);
        insertRows(chunk, json, from, to);
        count += to - from;
        options.onChunk?.(count);
        await yieldToEventLoop();
      }
    }
    throwIfAborted(options.signal, 'Writing the SQLite file');
    const contentChecksum = digest.digest();
    writeMeta([
      ['count', String(count)],
      ['contentChecksum', contentChecksum],
    ]);
    db.close();
    db = undefined;
    return { count, contentChecksum };
  } catch (err) {
    db?.close();
    await removeQuietly(path);
    await removeQuietly(`${path}-journal`);
    throw mapSqliteError(err, `Writing ${path}`);
  }
}

export interface SqliteDataset {
  header: DatasetHeader;
  storedChecksum: string | undefined;
  chunks(options?: { batchSize?: number; verifyChecksum?: boolean; signal?: AbortSignal }): AsyncIterable<EntryChunk>;
  /** Rows [offset, offset + limit) in insertion order, straight from SQLite. */
  page(offset: number, limit: number): EntryChunk;
  count(): number;
  close(): void;
}

type Row = [string, Buffer, string | null];

function readMeta(db: SqliteDb, path: string): { header: DatasetHeader; storedChecksum: string | undefined } {
  const tables = new Set(
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]),
  );
  if (!tables.has('meta') || !tables.has('vectors')) {
    throw new VecSnapError('UNSUPPORTED_FORMAT', `${path} is a SQLite database, but not one written by VecSnap.`);
  }
  const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
  const meta = new Map(rows.map((r) => [r.key, r.value]));
  if (meta.get('format') !== FORMAT_NAME) {
    throw new VecSnapError('UNSUPPORTED_FORMAT', `${path} is a SQLite database, but not one written by VecSnap.`);
  }
  const version = Number(meta.get('formatVersion'));
  if (version !== VERSION) {
    throw new VecSnapError('VERSION_UNSUPPORTED', `${path} has SQLite format version ${meta.get('formatVersion')}; this VecSnap reads version ${VERSION}.`);
  }
  const dimension = Number(meta.get('dimension'));
  const metric = meta.get('metric');
  const count = Number(meta.get('count'));
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 65536 || !METRICS.includes(metric as DatasetHeader['metric'])) {
    throw new VecSnapError('CORRUPT_FILE', `${path} has an invalid dimension or metric in its meta table.`);
  }
  if (!Number.isInteger(count) || count < 0) throw new VecSnapError('CORRUPT_FILE', `${path} has an invalid count in its meta table.`);
  const header: DatasetHeader = {
    dimension,
    metric: metric as DatasetHeader['metric'],
    count,
    createdAt: Number(meta.get('createdAt')) || 0,
  };
  const userMeta = meta.get('metadata');
  if (userMeta !== undefined) {
    try {
      header.metadata = JSON.parse(userMeta) as Metadata;
    } catch {
      throw new VecSnapError('CORRUPT_FILE', `${path} has unreadable dataset metadata.`);
    }
  }
  return { header, storedChecksum: meta.get('contentChecksum') };
}

export function openSqliteFile(path: string): SqliteDataset {
  let db: SqliteDb;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw mapSqliteError(err, `Opening ${path}`);
  }
  let info: { header: DatasetHeader; storedChecksum: string | undefined };
  try {
    info = readMeta(db, path);
  } catch (err) {
    db.close();
    throw mapSqliteError(err, `Reading ${path}`);
  }
  const { header } = info;
  const dim = header.dimension;

  const toChunk = (rows: Row[]): EntryChunk => {
    const vectors = new Float32Array(rows.length * dim);
    const bytes = new Uint8Array(vectors.buffer);
    const ids: string[] = new Array(rows.length);
    const metadata: (Metadata | undefined)[] = new Array(rows.length);
    rows.forEach(([id, blob, json], i) => {
      if (typeof id !== 'string') throw new VecSnapError('CORRUPT_FILE', `${path} holds an id that is not text.`);
      if (!Buffer.isBuffer(blob) || blob.length !== dim * 4) {
        throw new VecSnapError('CORRUPT_FILE', `The vector of "${id}" in ${path} has ${blob?.length ?? 0} bytes; expected ${dim * 4}.`);
      }
      bytes.set(blob, i * dim * 4);
      ids[i] = id;
      if (json !== null) {
        try {
          metadata[i] = JSON.parse(json) as Metadata;
        } catch {
          throw new VecSnapError('CORRUPT_FILE', `The metadata of "${id}" in ${path} is not valid JSON.`);
        }
      }
    });
    return { ids, vectors, metadata };
  };

  return {
    header,
    storedChecksum: info.storedChecksum,
    async *chunks(options = {}) {
      const batch = Math.max(1, options.batchSize ?? 2048);
      const verify = options.verifyChecksum ?? true;
      const digest = verify ? new ContentDigest(dim) : undefined;
      let read = 0;
      // Paging by rowid keeps no statement open across awaits (an open iterator blocks the connection).
      const stmt = db.prepare('SELECT rowid, id, vector, metadata FROM vectors WHERE rowid > ? ORDER BY rowid LIMIT ?').raw();
      let lastRowid = 0;
      try {
        for (;;) {
          throwIfAborted(options.signal, 'Reading the SQLite file');
          const rows = stmt.all(lastRowid, batch) as [number, string, Buffer, string | null][];
          if (rows.length === 0) break;
          lastRowid = rows[rows.length - 1]![0];
          const chunk = toChunk(rows.map((r) => [r[1], r[2], r[3]]));
          digest?.update(chunk);
          read += rows.length;
          yield chunk;
          await yieldToEventLoop();
        }
      } catch (err) {
        throw mapSqliteError(err, `Reading ${path}`);
      }
      if (read !== header.count) {
        throw new VecSnapError('CORRUPT_FILE', `${path} holds ${read} vectors but its meta table says ${header.count}.`);
      }
      if (digest && info.storedChecksum !== undefined && digest.digest() !== info.storedChecksum) {
        throw new VecSnapError('CHECKSUM_MISMATCH', `The content checksum of ${path} does not match its data: the file was changed or damaged.`);
      }
    },
    page(offset, limit) {
      try {
        const rows = db
          .prepare('SELECT id, vector, metadata FROM vectors ORDER BY rowid LIMIT ? OFFSET ?')
          .raw()
          .all(limit, offset) as Row[];
        return toChunk(rows);
      } catch (err) {
        throw mapSqliteError(err, `Reading ${path}`);
      }
    },
    count() {
      return header.count;
    },
    close() {
      if (db.open) db.close();
    },
  };
}
