import { VecSnapError, throwIfAborted } from './errors.js';
import { openDatasetFile } from './formats/dataset-io.js';
import type { ProgressReporter } from './io/progress.js';
import { withEventLoopTurns } from './io/event-loop.js';
import type { Compression, DatasetHeader, Format } from './types.js';
import { VectorDB } from './vector-db.js';

export interface ReadDatasetOptions {
  verifyChecksum?: boolean;
  signal?: AbortSignal;
  progress?: ProgressReporter;
  phase?: string;
  /** When set, the SHA-256 of the stored bytes must equal it (snapshot metadata's checksum). */
  expectSha256?: string;
  /**
   * Checked against the header before any entry is read: a file that cannot be used fails at
   * once instead of after a full read.
   */
  checkHeader?: (header: DatasetHeader) => void;
  label?: string;
}

export interface ReadDatasetResult {
  db: VectorDB;
  format: Format;
  compression: Compression;
  header: DatasetHeader;
  legacy: boolean;
  fileSize: number;
  contentChecksum: string | undefined;
}

/**
 * Reads a whole dataset file into a new VectorDB: the caller's database is never touched until
 * every check (content checksum, file checksum, vector validity) has passed.
 */
export async function readDatasetIntoNewDb(file: string, options: ReadDatasetOptions = {}): Promise<ReadDatasetResult> {
  const verify = options.verifyChecksum ?? true;
  const checkFile = verify && options.expectSha256 !== undefined && options.expectSha256 !== '';
  const dataset = await openDatasetFile(file, {
    // Both checks even when the file's SHA-256 is known: that one proves the bytes are the ones
    // written, the content digest proves this decoder rebuilt the same ids, vectors and metadata.
    verifyChecksum: verify,
    hashFile: checkFile,
    // insertChunk copies each block into the slab before the next is read.
    reuseVectors: true,
    ...(options.signal ? { signal: options.signal } : {}),
    onBytes: (bytes, fileSize) =>
      options.progress?.update({
        current: bytes,
        total: fileSize,
        bytesDone: bytes,
        bytesTotal: fileSize,
        phase: options.phase ?? 'reading',
      }),
  });
  const fileSize = dataset.fileSize;
  try {
    const { header } = dataset;
    options.checkHeader?.(header);
    // The header's count only pre-sizes the slab; a damaged header must not drive a huge allocation.
    const initialCapacity = Math.min(header.count, Math.floor(2 ** 27 / Math.max(1, header.dimension)));
    const db = new VectorDB({ dimension: header.dimension, metric: header.metric, initialCapacity });
    let entries = 0;
    // Decoded blocks can arrive as already-settled promises (SQLite's reader prefetches): without
    // a turn now and then, a restore filled the slab for 0.1 s without letting a timer run.
    for await (const chunk of withEventLoopTurns(dataset.chunks)) {
      throwIfAborted(options.signal, options.label ?? 'Loading');
      db.insertChunk(chunk, true, false);
      entries += chunk.ids.length;
      if (dataset.format === 'sqlite') {
        options.progress?.update({ current: entries, total: header.count, phase: options.phase ?? 'reading' });
      }
    }
    throwIfAborted(options.signal, options.label ?? 'Loading');
    if (checkFile) {
      const actual = dataset.fileSha256();
      if (actual !== options.expectSha256) {
        throw new VecSnapError(
          'CHECKSUM_MISMATCH',
          `The checksum of ${file} does not match the one recorded when it was written ` +
            `(expected ${options.expectSha256!.slice(0, 12)}…, found ${actual?.slice(0, 12) ?? 'none'}…); the file was changed or damaged.`,
        );
      }
    }
    db.markSaved();
    return {
      db,
      format: dataset.format,
      compression: dataset.compression,
      header,
      legacy: dataset.legacy,
      fileSize,
      contentChecksum: dataset.storedChecksum(),
    };
  } finally {
    await dataset.close();
  }
}
