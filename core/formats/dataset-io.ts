import { createReadStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline as pipelineCb } from 'node:stream';
import { VecSnapError, toVecSnapError } from '../errors.js';
import { hashingStage, sha256File } from '../io/checksum.js';
import { openBlockReader } from '../io/block-reader.js';
import { createStreamSha256 } from '../io/sha256-thread.js';
import { withEventLoopTurns } from '../io/event-loop.js';
import { FileProgress, pipeIntoFile, type Stage } from '../io/file-sink.js';
import { GATHER_MAX_BYTES, gather, writeGathered } from '../io/gathered-write.js';
import { createCompressor, createDecompressor } from '../io/compression.js';
import { removeQuietly, tempPathFor, writeAtomic } from '../io/atomic-write.js';
import type { Compression, DatasetHeader, EntryChunk, Format } from '../types.js';
import { binaryCodec } from './binary.js';
import type { ChunkSource, EncodeSummary, StreamCodec } from './codec.js';
import { detectFile } from './detect.js';
import { jsonCodec } from './json.js';
import { openSqliteFile, writeSqliteFile } from './sqlite.js';

export interface WriteDatasetOptions {
  format: Format;
  compression: Compression;
  header: DatasetHeader;
  chunks: ChunkSource;
  signal?: AbortSignal;
  /** Entries handed to the encoder so far. */
  onEntries?: (entries: number) => void;
  /** Bytes written to disk so far (after compression). */
  onBytes?: (bytes: number) => void;
  /** Expected uncompressed size, a hint for brotli. */
  sizeHint?: number;
  /**
   * Uncompressed JSON and binary files up to this many bytes are encoded whole and written at
   * once (writeGathered); 0 streams them always. Default GATHER_MAX_BYTES.
   */
  gatherBytes?: number;
}

export interface WrittenDataset {
  path: string;
  format: Format;
  compression: Compression;
  /** Size on disk. */
  bytes: number;
  /** SHA-256 of the bytes on disk. */
  sha256: string;
  count: number;
  contentChecksum: string;
}

/** A dataset written without the SHA-256 of its bytes (`fileChecksum: false`). */
export type WrittenDatasetUnhashed = Omit<WrittenDataset, 'sha256'> & { sha256?: undefined };

/** Dataset writes ask for write-back every 32 MiB (see EarlyWriteback in file-sink.ts). */
const WRITEBACK_BYTES = 32 * 1024 * 1024;

function streamCodec(format: Format): StreamCodec {
  if (format === 'json') return jsonCodec;
  if (format === 'binary') return binaryCodec;
  throw new VecSnapError('UNSUPPORTED_FORMAT', `The ${format} format is not a stream format.`);
}

async function* countEntries(chunks: ChunkSource, onEntries?: (n: number) => void): AsyncGenerator<EntryChunk> {
  let n = 0;
  for await (const chunk of chunks) {
    yield chunk;
    n += chunk.ids.length;
    onEntries?.(n);
  }
}

/**
 * Writes a dataset file in any format × compression, atomically: the target either keeps its
 * old content or gets the complete new file. Abort removes every temp file.
 *
 * `fileChecksum: false` skips the SHA-256 of the file's bytes, for a writer that records none (the
 * main save: its content checksum, inside the file, is what every load checks). That hash is a
 * second pass over every byte; at 100k × 384 it cost a save about 40 ms of its ~280 on 2 cores.
 */
export function writeDatasetFile(target: string, options: WriteDatasetOptions & { fileChecksum: false }): Promise<WrittenDatasetUnhashed>;
export function writeDatasetFile(target: string, options: WriteDatasetOptions & { fileChecksum?: true }): Promise<WrittenDataset>;
export async function writeDatasetFile(
  target: string,
  options: WriteDatasetOptions & { fileChecksum?: boolean },
): Promise<WrittenDataset | WrittenDatasetUnhashed> {
  const { format, compression, header, signal } = options;
  const fileChecksum = options.fileChecksum !== false;
  const entries = countEntries(options.chunks, options.onEntries);
  const summary: EncodeSummary = { count: 0, contentChecksum: '' };
  const hasher = hashingStage(options.onBytes, fileChecksum);
  // Every path but an uncompressed SQLite file ends in pipeIntoFile, which fsyncs (sync: true).
  const synced = !(format === 'sqlite' && compression === 'none');
  const file = await writeAtomic(target, async (temp) => {
    if (format !== 'sqlite') {
      const codec = streamCodec(format);
      // Uncompressed, the file takes the encoder's bytes as they are (the other stages only look
      // at them), so the encoder can tell when a block it passed on as a view has been written.
      const progress = compression === 'none' ? new FileProgress() : undefined;
      let encoder: AsyncIterable<Uint8Array> = withEventLoopTurns(codec.encode(header, entries, summary, signal, progress));
      // A started encoder whose output no pipeline will read (its file failed to open) is ended
      // here, so that its chunk source's clean-up runs (VectorDB.readChunks releases the database).
      let endEncoder: (() => Promise<unknown>) | undefined;
      const gatherBytes = options.gatherBytes ?? GATHER_MAX_BYTES;
      if (compression === 'none' && gatherBytes > 0) {
        const start = await gather(encoder, gatherBytes);
        if (start.rest === undefined) {
          try {
            return await writeGathered(temp, start.buffers, start.bytes, fileChecksum, options.onBytes, signal);
          } finally {
            progress?.settled();
          }
        }
        encoder = start.rest;
        endEncoder = start.end;
      }
      const stages = (): Stage[] => {
        const compressor = createCompressor(compression, options.sizeHint);
        try {
          const encoded = Readable.from(encoder, { objectMode: false });
          return compressor ? [encoded, compressor, hasher.stage] : [encoded, hasher.stage];
        } catch (err) {
          // A compressor may hold a thread that would keep the process alive.
          compressor?.destroy();
          throw err;
        }
      };
      try {
        await pipeIntoFile(temp, stages, {
          highWaterMark: 1024 * 1024,
          writebackEveryBytes: WRITEBACK_BYTES,
          sync: true,
          ...(progress ? { progress } : {}),
          ...(signal ? { signal } : {}),
        });
      } catch (err) {
        await endEncoder?.();
        throw err;
      } finally {
        progress?.settled();
      }
      return hasher.result();
    }
    if (compression === 'none') {
      Object.assign(summary, await writeSqliteFile(temp, header, entries, { writebackEveryBytes: WRITEBACK_BYTES, ...(signal ? { signal } : {}) }));
      if (!fileChecksum) return { sha256: undefined, bytes: (await fs.stat(temp)).size };
      // Written with drop-behind (sqlite.ts), so it is read back the same way.
      return sha256File(temp, { dropBehind: true, ...(signal ? { signal } : {}) });
    }
    // SQLite needs a real file to build; compress it into the temp target afterwards.
    const raw = tempPathFor(target);
    try {
      Object.assign(summary, await writeSqliteFile(raw, header, entries, signal ? { signal } : {}));
      const { size } = await fs.stat(raw);
      await pipeIntoFile(temp, () => [createReadStream(raw, { highWaterMark: 1024 * 1024 }), createCompressor(compression, size)!, hasher.stage], {
        highWaterMark: 1024 * 1024,
        writebackEveryBytes: WRITEBACK_BYTES,
        sync: true,
        ...(signal ? { signal } : {}),
      });
      return hasher.result();
    } finally {
      await removeQuietly(raw);
    }
  }, { synced });
  const written = { path: target, format, compression, bytes: file.bytes, count: summary.count, contentChecksum: summary.contentChecksum };
  return file.sha256 === undefined ? written : { ...written, sha256: file.sha256 };
}

export interface OpenDatasetOptions {
  verifyChecksum?: boolean;
  signal?: AbortSignal;
  /** Bytes of the stored file consumed so far, and its size. */
  onBytes?: (bytes: number, fileSize: number) => void;
  /** Entries per chunk when the format lets the reader choose (SQLite). */
  batchSize?: number;
  /** Skip detection when the caller already knows. */
  detected?: { format: Format; compression: Compression };
  /** Also compute the SHA-256 of the stored bytes while reading (see `fileSha256`). */
  hashFile?: boolean;
  /** See DecodeOptions.reuseVectors. */
  reuseVectors?: boolean;
}

export interface OpenedDataset {
  file: string;
  format: Format;
  compression: Compression;
  fileSize: number;
  header: DatasetHeader;
  legacy: boolean;
  /** Entries in file order; see DecodedDataset.chunks for when the checks happen. */
  chunks: AsyncIterable<EntryChunk>;
  storedChecksum(): string | undefined;
  /** SHA-256 of the stored file when `hashFile` was set; complete once `chunks` is drained. */
  fileSha256(): string | undefined;
  /** Releases file handles and temp files; safe to call more than once. */
  close(): Promise<void>;
}

interface ByteCounter {
  stream: Transform;
  sha256(): string | undefined;
}

/** Counts (and optionally hashes) the stored bytes on their way to the decompressor/decoder. */
function byteCounter(onBytes: ((bytes: number, total: number) => void) | undefined, total: number, hash: boolean): ByteCounter {
  let n = 0;
  const hasher = hash ? createStreamSha256() : undefined;
  let digest: string | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      n += chunk.length;
      try {
        hasher?.update(chunk);
      } catch (err) {
        // A throw out of transform() would escape the pipeline as an uncaught exception.
        done(err as Error);
        return;
      }
      onBytes?.(n, total);
      done(null, chunk);
    },
    flush(done) {
      try {
        digest = hasher?.digest();
      } catch (err) {
        done(err as Error);
        return;
      }
      done();
    },
  });
  return { stream, sha256: () => digest };
}

async function* mapErrors(source: AsyncIterable<EntryChunk>, file: string): AsyncGenerator<EntryChunk> {
  try {
    yield* source;
  } catch (err) {
    throw toVecSnapError(err, `Reading ${file}`);
  }
}

export interface StoredBytes {
  /** The file's content, decompressed. */
  input: AsyncIterable<Buffer>;
  /** SHA-256 of the stored bytes when asked for (`hashFile`); complete once `input` has ended. */
  sha256(): string | undefined;
  /**
   * Hands a piece of `input` back for reuse once nothing reads it (with `recycle`, for an
   * uncompressed file: openBlockReader); otherwise does nothing.
   */
  release(piece: Uint8Array): void;
  close(): Promise<void>;
}

/** Streams a stored file through the byte counter (and hasher) and its decompressor. */
export function readStoredBytes(
  file: string,
  compression: Compression,
  fileSize: number,
  options: Pick<OpenDatasetOptions, 'onBytes' | 'hashFile'> & { recycle?: boolean } = {},
): StoredBytes {
  // Compressed, `input` is the decompressor's output: the file's blocks never reach the caller.
  const blocks = options.recycle && compression === 'none' ? openBlockReader(file) : undefined;
  const raw = blocks?.stream ?? createReadStream(file, { highWaterMark: 1024 * 1024 });
  const decompressor = createDecompressor(compression);
  const counter = byteCounter(options.onBytes, fileSize, options.hashFile ?? false);
  const last = decompressor ?? counter.stream;
  const streams = decompressor ? [raw, counter.stream, decompressor] : [raw, counter.stream];
  // The callback form keeps errors flowing to the last stream, where the decoder reads.
  pipelineCb(streams as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream], () => undefined);
  return {
    input: last as AsyncIterable<Buffer>,
    sha256: counter.sha256,
    release: blocks ? blocks.release : () => undefined,
    close: async () => {
      for (const s of streams) s.destroy();
    },
  };
}

/** Opens any dataset file, detecting format and compression from its content. */
export async function openDatasetFile(file: string, options: OpenDatasetOptions = {}): Promise<OpenedDataset> {
  const detected = options.detected ?? (await detectFile(file));
  const { format, compression } = detected;
  let fileSize: number;
  try {
    fileSize = (await fs.stat(file)).size;
  } catch (err) {
    throw toVecSnapError(err, `Opening ${file}`);
  }
  const verifyChecksum = options.verifyChecksum ?? true;

  if (format === 'sqlite') return openSqlite(file, compression, fileSize, verifyChecksum, options);

  const { input, sha256, close } = readStoredBytes(file, compression, fileSize, options);
  try {
    const decoded = await streamCodec(format).decode(input, {
      verifyChecksum,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.reuseVectors ? { reuseVectors: true } : {}),
    });
    return {
      file,
      format,
      compression,
      fileSize,
      header: decoded.header,
      legacy: decoded.legacy,
      chunks: mapErrors(decoded.chunks, file),
      storedChecksum: () => decoded.storedChecksum(),
      fileSha256: sha256,
      close,
    };
  } catch (err) {
    await close();
    throw toVecSnapError(err, `Reading ${file}`);
  }
}

async function openSqlite(
  file: string,
  compression: Compression,
  fileSize: number,
  verifyChecksum: boolean,
  options: OpenDatasetOptions,
): Promise<OpenedDataset> {
  let dbFile = file;
  let tempDir: string | undefined;
  let fileSha256: string | undefined;
  if (compression === 'none' && options.hashFile) {
    fileSha256 = (await sha256File(file, options.signal ? { signal: options.signal } : {})).sha256;
  }
  if (compression !== 'none') {
    tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vecsnap-sqlite-'));
    dbFile = path.join(tempDir, 'data.sqlite');
    const counter = byteCounter(options.onBytes, fileSize, options.hashFile ?? false);
    try {
      await pipeIntoFile(
        dbFile,
        () => [createReadStream(file, { highWaterMark: 1024 * 1024 }), counter.stream, createDecompressor(compression)!],
        options.signal ? { signal: options.signal } : {},
      );
      fileSha256 = counter.sha256();
    } catch (err) {
      await fs.rm(tempDir, { recursive: true, force: true });
      throw toVecSnapError(err, `Decompressing ${file}`);
    }
  }
  const cleanup = async (): Promise<void> => {
    if (tempDir) await fs.rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
  };
  let dataset;
  try {
    dataset = openSqliteFile(dbFile);
  } catch (err) {
    await cleanup();
    throw toVecSnapError(err, `Reading ${file}`);
  }
  let closed = false;
  const close = async (): Promise<void> => {
    if (!closed) {
      closed = true;
      dataset.close();
    }
    await cleanup();
  };
  const chunks = dataset.chunks({
    verifyChecksum,
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return {
    file,
    format: 'sqlite',
    compression,
    fileSize,
    header: dataset.header,
    legacy: false,
    chunks: mapErrors(chunks, file),
    storedChecksum: () => dataset.storedChecksum,
    fileSha256: () => fileSha256,
    close,
  };
}
