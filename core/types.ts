/** Shared data shapes of the engine (SPEC §1–4). */

export type Metric = 'cosine' | 'euclidean' | 'dot';
export type Format = 'json' | 'binary' | 'sqlite';
export type Compression = 'none' | 'gzip' | 'brotli';

export const METRICS: readonly Metric[] = ['cosine', 'euclidean', 'dot'];
export const FORMATS: readonly Format[] = ['json', 'binary', 'sqlite'];
export const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'brotli'];

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type Metadata = Record<string, unknown>;

export interface VectorEntry {
  id: string;
  vector: Float32Array | number[];
  metadata?: Metadata;
}

/** An entry as the database hands it out: the vector is always float32. */
export interface StoredEntry {
  id: string;
  vector: Float32Array;
  metadata?: Metadata;
}

/**
 * A run of consecutive entries in insertion order. `vectors` holds `ids.length * dimension`
 * float32 values back to back; `metadata[i]` is undefined when entry i has none.
 * Every codec writes and reads the database as a sequence of these.
 */
export interface EntryChunk {
  ids: string[];
  vectors: Float32Array;
  metadata: (Metadata | undefined)[];
  /**
   * Set by a source that can refill `vectors` for a later chunk (VectorDB.readChunks). A consumer
   * calls it at most once, with a test that is true once nothing reads `vectors` any more — at
   * once when it copied them, or when a write that holds them has completed. Not calling it is
   * always safe: the source then takes new memory.
   */
  recycle?: (free: () => boolean) => void;
}

/** What every format records ahead of (or beside) its entries; readable without the body. */
export interface DatasetHeader {
  dimension: number;
  metric: Metric;
  /** Number of entries the file holds. */
  count: number;
  /** ms since epoch when the file was written. */
  createdAt: number;
  /** User metadata of the dataset (snapshot metadata, export notes). */
  metadata?: Metadata;
}

export interface ProgressInfo {
  operation: string;
  percentage: number;
  current: number;
  total: number;
  message: string;
  bytesDone?: number;
  bytesTotal?: number;
  phase?: string;
}

export type ProgressCallback = (progress: ProgressInfo) => void;

/** What every long operation accepts as its last argument. */
export interface LongOperationOptions {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}
