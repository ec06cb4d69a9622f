import { act } from '@testing-library/react';
import { vi, type Mock } from 'vitest';
import type {
  ApiError,
  ApiMethod,
  JobFinished,
  JobProgress,
  Result,
  ServiceEvent,
  SnapshotMetadata,
  SnapshotPageView,
  VecSnapApi,
  WorkspaceInfo,
} from '../../core/service/contract';
import type { MenuCommand, Platform } from '../api/platform';
import { makeInfo, sampleSnapshots } from './fixtures';

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const err = (code: ApiError['code'], message: string): Result<never> => ({ ok: false, error: { code, message } });

type FakeApi = { [M in ApiMethod]: Mock<VecSnapApi[M]> } & { onEvent: Mock<VecSnapApi['onEvent']> };

/** Methods that start a job and answer `{ jobId }`. */
const JOB_METHODS = [
  'saveDatabase',
  'createSnapshot',
  'restoreSnapshot',
  'verifySnapshot',
  'compareSnapshots',
  'exportDatabase',
  'exportSnapshot',
  'previewImport',
  'importFile',
  'generateSampleData',
] as const satisfies readonly ApiMethod[];

export interface FakePlatform extends Platform {
  api: FakeApi;
  chooseExportTarget: Mock<Platform['chooseExportTarget']>;
  deliverExport: Mock<Platform['deliverExport']>;
  chooseImportFile: Mock<Platform['chooseImportFile']>;
  resolveDroppedFiles: Mock<Platform['resolveDroppedFiles']>;
  onMenu: Mock<Platform['onMenu']>;
  /** The backend's current state, as the default answers report it. */
  state: { info: WorkspaceInfo; snapshots: SnapshotMetadata[] };
  /** Every job started, in order (`jobId` is `job-1`, `job-2`, …). */
  started: { method: ApiMethod; request: unknown; jobId: string }[];
  lastJobId(): string;
  /** Sends a backend event to the UI (inside act, with the promises it settles). */
  emit(event: ServiceEvent): Promise<void>;
  progress(progress: JobProgress): Promise<void>;
  finish(finished: JobFinished): Promise<void>;
  /** Sends a menu command, as the desktop menu would. */
  menu(command: MenuCommand): Promise<void>;
}

export function createFakePlatform(
  init: { info?: Partial<WorkspaceInfo>; snapshots?: SnapshotMetadata[]; kind?: Platform['kind'] } = {},
): FakePlatform {
  const listeners = new Set<(e: ServiceEvent) => void>();
  const menuListeners = new Set<(c: MenuCommand) => void>();
  const state = { info: makeInfo(init.info), snapshots: init.snapshots ?? sampleSnapshots() };
  const started: FakePlatform['started'] = [];
  let nextJob = 0;

  const api = {
    workspaceInfo: vi.fn(async () => ok(state.info)),
    openWorkspace: vi.fn(async () => ok(state.info)),
    setAutoSave: vi.fn(async (r: { enabled: boolean; intervalMs?: number }) => {
      state.info = { ...state.info, autoSave: { ...state.info.autoSave, enabled: r.enabled, intervalMs: r.intervalMs ?? state.info.autoSave.intervalMs } };
      return ok(state.info);
    }),
    listSnapshots: vi.fn(async () => ok(state.snapshots)),
    deleteSnapshot: vi.fn(async (r: { id: string }) => {
      state.snapshots = state.snapshots.filter((m) => m.id !== r.id);
      return ok({ deleted: r.id });
    }),
    pinSnapshot: vi.fn(async (r: { id: string; pinned: boolean }) => {
      const meta = state.snapshots.find((m) => m.id === r.id);
      if (!meta) return err('NOT_FOUND', `There is no snapshot with the id "${r.id}".`);
      const next = { ...meta, pinned: r.pinned };
      state.snapshots = state.snapshots.map((m) => (m.id === r.id ? next : m));
      return ok(next);
    }),
    updateSnapshot: vi.fn(async (r: { id: string }) => ok(state.snapshots.find((m) => m.id === r.id)!)),
    readSnapshotPage: vi.fn(async (r: { id: string; offset: number; limit: number }) => {
      const total = state.snapshots.find((m) => m.id === r.id)?.vectorCount ?? 0;
      const count = Math.max(0, Math.min(r.limit, total - r.offset));
      const page: SnapshotPageView = {
        id: r.id,
        offset: r.offset,
        limit: r.limit,
        total,
        dimension: 16,
        entries: Array.from({ length: count }, (_, i) => ({
          id: `doc-${String(r.offset + i).padStart(6, '0')}`,
          metadata: { topic: 'billing', n: r.offset + i },
          preview: [0.123456, -0.5, 0.25, 1, 0, 0.1, 0.2, 0.3],
          norm: 1.23456,
        })),
      };
      return ok(page);
    }),
    cancelJob: vi.fn(async () => ok({ cancelled: true })),
    listJobs: vi.fn(async () => ok([])),
    onEvent: vi.fn((listener: (e: ServiceEvent) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    }),
  } as Partial<FakeApi> as FakeApi;
  for (const method of JOB_METHODS) {
    (api as Record<string, unknown>)[method] = vi.fn(async (request?: unknown) => {
      const jobId = `job-${++nextJob}`;
      started.push({ method, request, jobId });
      return ok({ jobId });
    });
  }

  const emit = async (event: ServiceEvent): Promise<void> => {
    await act(async () => {
      for (const l of [...listeners]) l(event);
      await new Promise((r) => setTimeout(r, 0));
    });
  };

  const platform: FakePlatform = {
    kind: init.kind ?? 'web',
    api,
    state,
    started,
    chooseExportTarget: vi.fn(async (fileName: string) => `/exports/${fileName}`),
    deliverExport: vi.fn(),
    chooseImportFile: vi.fn(async () => '/uploads/file.bin'),
    resolveDroppedFiles: vi.fn(async (files: File[]) => files.map((f) => `/uploads/${f.name}`)),
    onMenu: vi.fn((listener: (c: MenuCommand) => void) => {
      menuListeners.add(listener);
      return () => menuListeners.delete(listener);
    }),
    lastJobId: () => {
      const last = started[started.length - 1];
      if (!last) throw new Error('No job was started.');
      return last.jobId;
    },
    emit,
    progress: (p) => emit({ type: 'jobs:progress', progress: p }),
    finish: (f) => emit({ type: 'jobs:finished', finished: f }),
    menu: async (command) => {
      await act(async () => {
        for (const l of [...menuListeners]) l(command);
        await new Promise((r) => setTimeout(r, 0));
      });
    },
  };
  return platform;
}
