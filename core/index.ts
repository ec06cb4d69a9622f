/** The package's public API: the names of SPEC §2, plus VecSnap's additions. */
export { VectorDB } from './vector-db.js';
export type { VectorDBOptions, SearchQuery, SearchResult, DBStats, ChangeSet } from './vector-db.js';
export { DatabasePersistence } from './persistence.js';
export type {
  PersistenceOptions,
  SaveOptions,
  IncrementalSaveOptions,
  LoadOptions,
  RestoreOptions,
  ExportOptions,
  ExportResult,
  ImportOptions,
  ImportResult,
} from './persistence.js';
export type { SnapshotMetadata, IntegrityState } from './snapshot-store.js';
export type {
  CreateSnapshotOptions,
  VerifyResult,
  SnapshotPage,
  SnapshotComparison,
  CompareSnapshotsOptions,
  ExportSnapshotOptions,
  SnapshotExportResult,
} from './snapshots.js';
export type { ContentDiff } from './compare.js';
export type { FileInspection } from './inspect.js';
export { inspectDatasetFile } from './inspect.js';
export { detectFile } from './formats/detect.js';
export { VecSnapError, isVecSnapError, ERROR_CODES } from './errors.js';
export type { ErrorCode } from './errors.js';
export { formatFileSize, formatTimestamp, estimateMemoryUsage } from './format-utils.js';
export type { DatabaseStateLike } from './format-utils.js';
export { generateSampleData } from './sample-data.js';
export type { SampleDataOptions } from './sample-data.js';
export type {
  Metric,
  Format,
  Compression,
  Metadata,
  VectorEntry,
  StoredEntry,
  DatasetHeader,
  ProgressInfo,
  ProgressCallback,
  LongOperationOptions,
} from './types.js';
