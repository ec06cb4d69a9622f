/**
 * The one contract every front end calls (renderer via IPC or WebSocket, CLI in process).
 * Types only, plus the channel names; the renderer imports nothing else from core.
 */
import type { ErrorCode } from '../errors.js';
import type { ContentDiff } from '../compare.js';
import type { FileInspection } from '../inspect.js';
import type { ExportResult, ImportResult } from '../persistence.js';
import type { SnapshotMetadata } from '../snapshot-store.js';
import type { SnapshotComparison, SnapshotExportResult, VerifyResult } from '../snapshots.js';
import type { Compression, Format, Metadata, Metric } from '../types.js';

export type { ErrorCode, ContentDiff, FileInspection, ExportResult, ImportResult, SnapshotMetadata };
export type { SnapshotComparison, SnapshotExportResult, VerifyResult, Compression, Format, Metadata, Metric };

export interface ApiError {
  code: ErrorCode;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export interface AutoSaveState {
  enabled: boolean;
  intervalMs: number;
  incremental: boolean;
  lastSavedAt?: number;
  lastError?: ApiError;
}

export interface WorkspaceInfo {
  dataDir: string;
  dimension: number;
  metric: Metric;
  count: number;
  memoryBytes: number;
  hasUnsavedChanges: boolean;
  changes: { added: number; changed: number; deleted: number; needsFullSave: boolean };
  format: Format;
  compression: Compression;
  autoSave: AutoSaveState;
  lastSave?: { at: number; path: string; kind: 'full' | 'incremental' };
  snapshotCount: number;
  /** Notes for the person: leftovers cleaned up at start, unreadable metadata files. */
  notices: string[];
}

export type JobKind =
  | 'save'
  | 'snapshot-create'
  | 'snapshot-restore'
  | 'snapshot-verify'
  | 'snapshot-compare'
  | 'export-database'
  | 'export-snapshot'
  | 'import-preview'
  | 'import'
  | 'sample';

export type JobState = 'running' | 'done' | 'failed' | 'cancelled';

export interface JobRef {
  jobId: string;
}

export interface JobProgress {
  jobId: string;
  kind: JobKind;
  label: string;
  percentage: number;
  current: number;
  total: number;
  message: string;
  phase?: string;
  bytesDone?: number;
  bytesTotal?: number;
  /** Bytes per second when the job counts bytes, else items per second. */
  throughput?: number;
  throughputUnit?: 'B/s' | 'items/s';
  /** Estimated time left. */
  etaMs?: number;
  elapsedMs: number;
}

export interface RestoreOutcome {
  restored: SnapshotMetadata;
  /** The snapshot taken just before, which "Undo restore" restores. */
  safetySnapshot?: SnapshotMetadata;
}

export interface SaveOutcome {
  path: string | null;
  kind: 'full' | 'incremental' | 'nothing-to-save';
}

export interface SampleOutcome {
  count: number;
  dimension: number;
  snapshots: SnapshotMetadata[];
}

/** What each kind of job returns when it ends well. */
export interface JobResults {
  save: SaveOutcome;
  'snapshot-create': SnapshotMetadata;
  'snapshot-restore': RestoreOutcome;
  'snapshot-verify': VerifyResult;
  'snapshot-compare': SnapshotComparison;
  'export-database': ExportResult;
  'export-snapshot': SnapshotExportResult;
  'import-preview': FileInspection;
  import: ImportResult;
  sample: SampleOutcome;
}

export type JobFinished = {
  [K in JobKind]: {
    jobId: string;
    kind: K;
    label: string;
    state: Exclude<JobState, 'running'>;
    elapsedMs: number;
    result?: JobResults[K];
    error?: ApiError;
  };
}[JobKind];

export interface JobInfo {
  jobId: string;
  kind: JobKind;
  label: string;
  state: JobState;
  startedAt: number;
  progress?: JobProgress;
  error?: ApiError;
}

export interface SnapshotPageView {
  id: string;
  offset: number;
  limit: number;
  total: number;
  dimension: number;
  entries: { id: string; metadata?: Metadata; preview: number[]; norm: number }[];
}

export type ServiceEvent =
  | { type: 'jobs:progress'; progress: JobProgress }
  | { type: 'jobs:finished'; finished: JobFinished }
  | { type: 'workspace:changed'; info: WorkspaceInfo };

export interface CreateSnapshotRequest {
  name: string;
  note?: string;
  tags?: string[];
  format?: Format;
  compression?: Compression;
  /**
   * Unpinned snapshots to keep: once this one is written, the oldest beyond this many are deleted
   * (a cron job's "snapshot, then prune"). The folder's own limit (50) applies when absent.
   */
  keep?: number;
}

/** Method → request and response. Long operations answer a JobRef at once and report events. */
export interface ApiSpec {
  workspaceInfo: { req: void; res: WorkspaceInfo };
  openWorkspace: { req: { dir: string }; res: WorkspaceInfo };
  saveDatabase: { req: { incremental?: boolean }; res: JobRef };
  setAutoSave: { req: { enabled: boolean; intervalMs?: number; incremental?: boolean }; res: WorkspaceInfo };
  listSnapshots: { req: void; res: SnapshotMetadata[] };
  createSnapshot: { req: CreateSnapshotRequest; res: JobRef };
  restoreSnapshot: { req: { id: string; safetySnapshot?: boolean }; res: JobRef };
  deleteSnapshot: { req: { id: string; force?: boolean }; res: { deleted: string } };
  verifySnapshot: { req: { id: string }; res: JobRef };
  pinSnapshot: { req: { id: string; pinned: boolean }; res: SnapshotMetadata };
  updateSnapshot: { req: { id: string; name?: string; note?: string; tags?: string[] }; res: SnapshotMetadata };
  compareSnapshots: { req: { a: string; b: string; sampleSize?: number }; res: JobRef };
  readSnapshotPage: { req: { id: string; offset: number; limit: number }; res: SnapshotPageView };
  exportDatabase: { req: { path: string; format: Format; compression: Compression }; res: JobRef };
  exportSnapshot: { req: { id: string; path: string; format?: Format; compression?: Compression }; res: JobRef };
  previewImport: { req: { path: string }; res: JobRef };
  importFile: { req: { path: string; clear: boolean }; res: JobRef };
  generateSampleData: { req: { count?: number; dimension?: number; snapshots?: number }; res: JobRef };
  cancelJob: { req: { jobId: string }; res: { cancelled: boolean } };
  listJobs: { req: void; res: JobInfo[] };
}

export type ApiMethod = keyof ApiSpec;
export type ApiRequest<M extends ApiMethod> = ApiSpec[M]['req'];
export type ApiResponse<M extends ApiMethod> = ApiSpec[M]['res'];

/** What a front end holds: every method, plus a subscription to the events meant for it. */
export type VecSnapApi = {
  [M in ApiMethod]: ApiRequest<M> extends void
    ? () => Promise<Result<ApiResponse<M>>>
    : (request: ApiRequest<M>) => Promise<Result<ApiResponse<M>>>;
} & {
  onEvent(listener: (event: ServiceEvent) => void): () => void;
};

/** Wire names (IPC channels, WebSocket message types). The only place they are spelled. */
export const CHANNELS = {
  workspaceInfo: 'workspace:info',
  openWorkspace: 'workspace:open',
  saveDatabase: 'database:save',
  setAutoSave: 'database:auto-save',
  listSnapshots: 'snapshots:list',
  createSnapshot: 'snapshots:create',
  restoreSnapshot: 'snapshots:restore',
  deleteSnapshot: 'snapshots:delete',
  verifySnapshot: 'snapshots:verify',
  pinSnapshot: 'snapshots:pin',
  updateSnapshot: 'snapshots:update',
  compareSnapshots: 'snapshots:compare',
  readSnapshotPage: 'snapshots:page',
  exportDatabase: 'export:database',
  exportSnapshot: 'export:snapshot',
  previewImport: 'import:preview',
  importFile: 'import:run',
  generateSampleData: 'sample:generate',
  cancelJob: 'jobs:cancel',
  listJobs: 'jobs:list',
} as const satisfies Record<ApiMethod, string>;

export const EVENT_CHANNEL = 'vecsnap:event';

// ---- the browser transport (server/ ↔ renderer/api/web-client.ts) ----------------------------

export type WireMessage =
  | { type: 'result'; id: number; result: Result<unknown> }
  | { type: 'event'; event: ServiceEvent }
  | { type: 'error'; message: string };

export interface WireCall {
  type: 'call';
  id: number;
  method: ApiMethod;
  request?: unknown;
}

/** What the page learns about where the browser's files go on the server. */
export interface WebEnv {
  platform: 'web';
  dataDir: string;
  exportsDir: string;
  uploadsDir: string;
}


export const API_METHODS = Object.keys(CHANNELS) as ApiMethod[];
