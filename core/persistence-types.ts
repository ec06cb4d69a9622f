import type { VecSnapError } from './errors.js';
import type { Compression, Format, LongOperationOptions } from './types.js';

export interface PersistenceOptions {
  baseDir: string;
  format?: Format;
  compression?: Compression;
  incremental?: boolean;
  /** ms between auto-saves; 0 turns auto-save off. */
  autoSaveInterval?: number;
  maxSnapshots?: number;
  /** Entries per chunk written and read. */
  batchSize?: number;
  /** Called with every auto-save failure (auto-save keeps running). */
  onAutoSaveError?: (error: VecSnapError) => void;
  /** Called after each auto-save that wrote something. */
  onAutoSave?: (path: string) => void;
}

export interface SaveOptions extends LongOperationOptions {
  path?: string;
  format?: Format;
  /** true: the configured compression (gzip if none is configured); false: none; or a name. */
  compress?: boolean | Compression;
}

export interface IncrementalSaveOptions extends LongOperationOptions {
  path?: string;
  format?: Format;
}

export interface LoadOptions extends LongOperationOptions {
  path?: string;
  format?: Format;
  verifyChecksum?: boolean;
}

export interface RestoreOptions extends LongOperationOptions {
  verifyChecksum?: boolean;
}

export interface ExportOptions extends LongOperationOptions {
  path: string;
  format?: Format;
  compress?: boolean | Compression;
  /**
   * Accepted for compatibility with the original API. VecSnap's search is exact and keeps no
   * separate index, so there is no index to include; every export is complete without one.
   */
  includeIndex?: boolean;
}

export interface ImportOptions extends LongOperationOptions {
  path: string;
  format?: Format;
  /** Replace the database (true) or upsert into it (false, the default). */
  clear?: boolean;
  verifyChecksum?: boolean;
}

export interface ExportResult {
  path: string;
  format: Format;
  compression: Compression;
  fileSize: number;
  checksum: string;
  contentChecksum: string;
  vectorCount: number;
}

export interface ImportResult {
  path: string;
  format: Format;
  compression: Compression;
  imported: number;
  count: number;
  legacy: boolean;
}
