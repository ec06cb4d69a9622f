import type { JobFinished, JobProgress, SnapshotMetadata, WorkspaceInfo } from '../../core/service/contract';

export const HOUR = 3600_000;

export function makeInfo(overrides: Partial<WorkspaceInfo> = {}): WorkspaceInfo {
  return {
    dataDir: '/data/vecsnap',
    dimension: 128,
    metric: 'cosine',
    count: 1990,
    memoryBytes: 1536 * 1024,
    hasUnsavedChanges: false,
    changes: { added: 0, changed: 0, deleted: 0, needsFullSave: false },
    format: 'binary',
    compression: 'none',
    autoSave: { enabled: false, intervalMs: 60_000, incremental: false },
    snapshotCount: 3,
    notices: [],
    ...overrides,
  };
}

let seq = 0;

export function makeSnapshot(overrides: Partial<SnapshotMetadata> = {}): SnapshotMetadata {
  seq++;
  const id = overrides.id ?? `snap-${seq}`;
  return {
    id,
    name: `Snapshot ${seq}`,
    timestamp: Date.now() - seq * HOUR,
    vectorCount: 1000,
    dimension: 128,
    format: 'binary',
    compressed: false,
    compression: 'none',
    fileSize: 512 * 1024,
    checksum: (String(seq).padStart(4, '0') + 'abcdef0123456789'.repeat(4)).slice(0, 64),
    seq,
    ...overrides,
  };
}

/** Three snapshots like the sample data: oldest "Initial import", newest "Nightly". */
export function sampleSnapshots(now = Date.now()): SnapshotMetadata[] {
  return [
    makeSnapshot({ id: 'nightly', name: 'Nightly', timestamp: now - 5 * 60_000, vectorCount: 1990, fileSize: 3 * 1024 * 1024, tags: ['sample'], note: 'Sample data', integrity: { state: 'verified', checkedAt: now } }),
    makeSnapshot({ id: 'added', name: 'Added support articles', timestamp: now - 2 * HOUR, vectorCount: 1330, format: 'json', compression: 'gzip', compressed: true, tags: ['sample', 'support'], integrity: { state: 'missing' } }),
    makeSnapshot({ id: 'initial', name: 'Initial import', timestamp: now - 26 * HOUR, vectorCount: 666, format: 'sqlite', note: 'First load', integrity: { state: 'mismatch' } }),
  ];
}

export function progress(jobId: string, overrides: Partial<JobProgress> = {}): JobProgress {
  return {
    jobId,
    kind: 'export-database',
    label: 'Export database',
    percentage: 42,
    current: 420,
    total: 1000,
    message: 'Writing vectors',
    elapsedMs: 1000,
    ...overrides,
  };
}

export function finished(jobId: string, overrides: Partial<JobFinished> = {}): JobFinished {
  return { jobId, kind: 'export-database', label: 'Export database', state: 'done', elapsedMs: 1200, ...overrides } as JobFinished;
}
