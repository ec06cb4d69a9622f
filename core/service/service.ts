import { VecSnapError } from '../errors.js';
import { VectorDB } from '../vector-db.js';
import { generateSampleData } from '../sample-data.js';
import { checkCompression, checkFormat } from '../save-paths.js';
import { optionalCount } from '../validation.js';
import { API_METHODS } from './contract.js';
import type {
  ApiMethod,
  ApiRequest,
  ApiResponse,
  JobRef,
  Result,
  ServiceEvent,
  SnapshotPageView,
  VecSnapApi,
} from './contract.js';
import { JobRunner, toApiError } from './jobs.js';
import { Workspace } from './workspace.js';

export interface ServiceOptions {
  /** The data folder opened at start (created when missing). */
  dataDir: string;
}

export interface VecSnapService {
  call<M extends ApiMethod>(method: M, request: ApiRequest<M>, clientId: string): Promise<Result<ApiResponse<M>>>;
  /** Events for `clientId`: its own jobs' progress and results, and every workspace change. */
  subscribe(clientId: string, listener: (event: ServiceEvent) => void): () => void;
  /** Cancels the running jobs a client started (its window or socket went away). */
  cancelJobsOf(clientId: string): number;
  /** The contract as an in-process object (CLI, tests). */
  client(clientId: string): VecSnapApi;
  readonly dataDir: string;
  /** Waits for running jobs, saves, and closes the workspace. */
  close(): Promise<void>;
}

type Handler<M extends ApiMethod> = (request: ApiRequest<M>, clientId: string) => Promise<ApiResponse<M>>;

function requireObject(request: unknown, method: string): Record<string, unknown> {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new VecSnapError('INVALID_ARGUMENT', `${method} needs a request object.`);
  }
  return request as Record<string, unknown>;
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new VecSnapError('INVALID_ARGUMENT', `${what} must be a non-empty text.`);
  return value;
}

function optionalTags(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((t) => typeof t !== 'string')) {
    throw new VecSnapError('INVALID_ARGUMENT', 'Tags must be a list of texts.');
  }
  return (value as string[]).map((t) => t.trim()).filter((t) => t !== '');
}

function preview(vector: Float32Array): { preview: number[]; norm: number } {
  let norm = 0;
  for (const v of vector) norm += v * v;
  return { preview: Array.from(vector.subarray(0, 8)), norm: Math.sqrt(norm) };
}

/** The contract over the engine. No UI logic, no transport: both bind onto `call`/`subscribe`. */
export async function createService(options: ServiceOptions): Promise<VecSnapService> {
  const listeners = new Map<string, Set<(event: ServiceEvent) => void>>();
  const emitTo = (clientId: string | null, event: ServiceEvent): void => {
    const targets = clientId === null ? [...listeners.values()] : [listeners.get(clientId) ?? new Set()];
    for (const set of targets) for (const listener of set) listener(event);
  };
  let workspace: Workspace;
  const announce = (): void => {
    workspace
      .info()
      .then((info) => emitTo(null, { type: 'workspace:changed', info }))
      .catch(() => undefined);
  };
  const jobs = new JobRunner({
    progress: (owner, progress) => emitTo(owner, { type: 'jobs:progress', progress }),
    finished: (owner, finished) => {
      emitTo(owner, { type: 'jobs:finished', finished });
      announce();
    },
  });
  workspace = await Workspace.open(options.dataDir, announce);

  const handlers: { [M in ApiMethod]: Handler<M> } = {
    workspaceInfo: () => workspace.info(),

    openWorkspace: async (req) => {
      const dir = requireString(requireObject(req, 'openWorkspace').dir, 'The data folder');
      if (jobs.running > 0) throw new VecSnapError('BUSY', 'Wait for the running jobs to finish (or cancel them) before switching folders.');
      const next = await Workspace.open(dir, announce);
      const previous = workspace;
      workspace = next;
      await previous.close();
      announce();
      return workspace.info();
    },

    saveDatabase: async (req, clientId) => {
      const incremental = requireObject(req ?? {}, 'saveDatabase').incremental === true;
      return jobs.start('save', incremental ? 'Incremental save' : 'Save', clientId, async ({ signal, onProgress }) => {
        const p = workspace.persistence;
        const path = incremental ? await p.saveIncremental({ signal, onProgress }) : await p.save({ signal, onProgress });
        const kind = path === null ? 'nothing-to-save' : path.endsWith('.delta') ? 'incremental' : 'full';
        if (path !== null) workspace.lastSave = { at: Date.now(), path, kind: kind === 'incremental' ? 'incremental' : 'full' };
        return { path, kind };
      });
    },

    setAutoSave: async (req) => {
      const r = requireObject(req, 'setAutoSave');
      const settings = workspace.settings.autoSave;
      if (r.intervalMs !== undefined) {
        if (typeof r.intervalMs !== 'number' || !Number.isFinite(r.intervalMs) || r.intervalMs < 1000) {
          throw new VecSnapError('INVALID_ARGUMENT', 'The auto-save interval must be at least 1 second.');
        }
        settings.intervalMs = r.intervalMs;
      }
      if (r.incremental !== undefined) settings.incremental = r.incremental === true;
      settings.enabled = r.enabled === true;
      workspace.persistence.setIncremental(settings.incremental);
      if (settings.enabled) workspace.persistence.startAutoSave(settings.intervalMs);
      else workspace.persistence.stopAutoSave();
      await workspace.saveSettings();
      announce();
      return workspace.info();
    },

    listSnapshots: () => workspace.persistence.listSnapshots(),

    createSnapshot: async (req, clientId) => {
      const r = requireObject(req, 'createSnapshot');
      const name = requireString(r.name, 'The snapshot name').trim();
      const tags = optionalTags(r.tags);
      const format = r.format === undefined ? workspace.settings.format : checkFormat(r.format);
      const compression = r.compression === undefined ? workspace.settings.compression : checkCompression(r.compression);
      const note = typeof r.note === 'string' && r.note.trim() !== '' ? r.note.trim() : undefined;
      // Checked before the job starts, so a bad value is refused at once rather than as a failed job.
      const keep = optionalCount(r.keep, 'The number of snapshots to keep');
      return jobs.start('snapshot-create', `Snapshot "${name}"`, clientId, ({ signal, onProgress }) =>
        workspace.persistence.createSnapshot(name, undefined, {
          format,
          compression,
          ...(note !== undefined ? { note } : {}),
          ...(tags !== undefined ? { tags } : {}),
          ...(keep !== undefined ? { maxSnapshots: keep } : {}),
          signal,
          onProgress,
        }),
      );
    },

    restoreSnapshot: async (req, clientId) => {
      const r = requireObject(req, 'restoreSnapshot');
      const id = requireString(r.id, 'The snapshot id');
      const meta = await workspace.persistence.getSnapshot(id);
      const safety = r.safetySnapshot !== false;
      return jobs.start('snapshot-restore', `Restore "${meta.name}"`, clientId, async ({ signal, onProgress }) => {
        const p = workspace.persistence;
        // The safety snapshot makes the restore undoable: "Undo restore" restores it.
        const safetySnapshot = safety
          ? await p.createSnapshot(`Before restoring "${meta.name}"`, undefined, {
              tags: ['safety'],
              note: `Taken automatically before restoring "${meta.name}".`,
              signal,
            })
          : undefined;
        const restored = await p.restoreSnapshot(id, { signal, onProgress });
        return safetySnapshot ? { restored, safetySnapshot } : { restored };
      });
    },

    deleteSnapshot: async (req) => {
      const r = requireObject(req, 'deleteSnapshot');
      const id = requireString(r.id, 'The snapshot id');
      await workspace.persistence.deleteSnapshot(id, { force: r.force === true });
      announce();
      return { deleted: id };
    },

    verifySnapshot: async (req, clientId) => {
      const id = requireString(requireObject(req, 'verifySnapshot').id, 'The snapshot id');
      const meta = await workspace.persistence.getSnapshot(id);
      return jobs.start('snapshot-verify', `Verify "${meta.name}"`, clientId, ({ signal, onProgress }) =>
        workspace.persistence.verifySnapshot(id, { signal, onProgress }),
      );
    },

    pinSnapshot: async (req) => {
      const r = requireObject(req, 'pinSnapshot');
      const meta = await workspace.persistence.pinSnapshot(requireString(r.id, 'The snapshot id'), r.pinned === true);
      announce();
      return meta;
    },

    updateSnapshot: async (req) => {
      const r = requireObject(req, 'updateSnapshot');
      const id = requireString(r.id, 'The snapshot id');
      const tags = optionalTags(r.tags);
      const meta = await workspace.persistence.updateSnapshot(id, {
        ...(r.name !== undefined ? { name: requireString(r.name, 'The snapshot name').trim() } : {}),
        ...(typeof r.note === 'string' ? { note: r.note } : {}),
        ...(tags !== undefined ? { tags } : {}),
      });
      announce();
      return meta;
    },

    compareSnapshots: async (req, clientId) => {
      const r = requireObject(req, 'compareSnapshots');
      const a = requireString(r.a, 'The first snapshot id');
      const b = requireString(r.b, 'The second snapshot id');
      const sampleSize = typeof r.sampleSize === 'number' ? Math.min(200, Math.max(0, Math.floor(r.sampleSize))) : 20;
      return jobs.start('snapshot-compare', 'Compare snapshots', clientId, ({ signal, onProgress }) =>
        workspace.persistence.compareSnapshots(a, b, { sampleSize, signal, onProgress }),
      );
    },

    readSnapshotPage: async (req) => {
      const r = requireObject(req, 'readSnapshotPage');
      const id = requireString(r.id, 'The snapshot id');
      const page = await workspace.persistence.readSnapshotPage(id, {
        offset: typeof r.offset === 'number' ? r.offset : 0,
        limit: typeof r.limit === 'number' ? r.limit : 50,
      });
      const view: SnapshotPageView = {
        id,
        offset: page.offset,
        limit: page.limit,
        total: page.total,
        dimension: page.dimension,
        entries: page.entries.map((e) => ({ id: e.id, ...(e.metadata ? { metadata: e.metadata } : {}), ...preview(e.vector) })),
      };
      return view;
    },

    exportDatabase: async (req, clientId) => {
      const r = requireObject(req, 'exportDatabase');
      const path = requireString(r.path, 'The export path');
      const format = checkFormat(r.format);
      const compression = checkCompression(r.compression);
      return jobs.start('export-database', 'Export database', clientId, ({ signal, onProgress }) =>
        workspace.persistence.export({ path, format, compress: compression, signal, onProgress }),
      );
    },

    exportSnapshot: async (req, clientId) => {
      const r = requireObject(req, 'exportSnapshot');
      const id = requireString(r.id, 'The snapshot id');
      const path = requireString(r.path, 'The export path');
      const format = r.format === undefined ? undefined : checkFormat(r.format);
      const compression = r.compression === undefined ? undefined : checkCompression(r.compression);
      const meta = await workspace.persistence.getSnapshot(id);
      return jobs.start('export-snapshot', `Export "${meta.name}"`, clientId, ({ signal, onProgress }) =>
        workspace.persistence.exportSnapshot(id, {
          path,
          ...(format ? { format } : {}),
          ...(compression ? { compression } : {}),
          signal,
          onProgress,
        }),
      );
    },

    previewImport: async (req, clientId) => {
      const path = requireString(requireObject(req, 'previewImport').path, 'The file path');
      return jobs.start('import-preview', 'Check file', clientId, ({ signal, onProgress }) =>
        workspace.persistence.inspectFile(path, { verify: true, signal, onProgress }),
      );
    },

    importFile: async (req, clientId) => {
      const r = requireObject(req, 'importFile');
      const path = requireString(r.path, 'The file path');
      return jobs.start('import', 'Import', clientId, ({ signal, onProgress }) =>
        workspace.persistence.import({ path, clear: r.clear === true, signal, onProgress }),
      );
    },

    generateSampleData: async (req, clientId) => {
      const r = requireObject(req ?? {}, 'generateSampleData');
      const count = typeof r.count === 'number' ? Math.floor(r.count) : 3000;
      const dimension = typeof r.dimension === 'number' ? Math.floor(r.dimension) : 128;
      const snapshots = typeof r.snapshots === 'number' ? Math.floor(r.snapshots) : 3;
      if (count < 1 || count > 1_000_000 || dimension < 1 || dimension > 4096 || snapshots < 0 || snapshots > 10) {
        throw new VecSnapError('INVALID_ARGUMENT', 'Sample data needs 1–1,000,000 vectors, a dimension of 1–4096 and 0–10 snapshots.');
      }
      if (workspace.db.size > 0) {
        throw new VecSnapError('INVALID_ARGUMENT', 'Sample data can only be generated into an empty database.');
      }
      return jobs.start('sample', 'Generate sample data', clientId, async ({ signal, onProgress }) => {
        const entries = generateSampleData({ count, dimension });
        const p = workspace.persistence;
        const db = workspace.db;
        const staging = new VectorDB({ dimension, metric: 'cosine' });
        const steps = Math.max(1, snapshots);
        const names = ['Initial import', 'Added support articles', 'Nightly'];
        const made = [];
        for (let s = 0; s < steps; s++) {
          staging.insertBatch(entries.slice(Math.floor((count * s) / steps), Math.floor((count * (s + 1)) / steps)));
          if (s === 0) {
            db.replaceContents(staging);
          } else {
            db.mergeFrom(staging);
            staging.clear();
            // A few removals and edits per step, so that every pair of snapshots differs in every way.
            for (let i = 0; i < 5; i++) db.delete(entries[i * 11 + s]!.id);
            for (let i = 0; i < 5; i++) {
              const e = db.get(entries[Math.min(count - 1, 100 + i * 13 + s)]!.id);
              if (e) db.insert({ ...e, metadata: { ...e.metadata, revised: s } });
            }
          }
          if (snapshots > 0) {
            made.push(
              await p.createSnapshot(names[s] ?? `Sample ${s + 1}`, undefined, {
                note: 'Sample data',
                tags: ['sample'],
                signal,
                onProgress: (e) => onProgress({ ...e, percentage: Math.min(99, (s * 100 + e.percentage) / steps) }),
              }),
            );
          }
        }
        await p.save({ signal });
        return { count: workspace.db.size, dimension, snapshots: made };
      });
    },

    cancelJob: async (req) => ({ cancelled: jobs.cancel(requireString(requireObject(req, 'cancelJob').jobId, 'The job id')) }),

    listJobs: async () => jobs.list(),
  };

  async function call<M extends ApiMethod>(method: M, request: ApiRequest<M>, clientId: string): Promise<Result<ApiResponse<M>>> {
    if (!API_METHODS.includes(method)) {
      return { ok: false, error: { code: 'INVALID_ARGUMENT', message: `Unknown operation "${String(method)}".` } };
    }
    try {
      const handler = handlers[method] as Handler<M>;
      return { ok: true, value: await handler(request, clientId) };
    } catch (err) {
      return { ok: false, error: toApiError(err, String(method)) };
    }
  }

  const service: VecSnapService = {
    get dataDir() {
      return workspace.dir;
    },
    call,
    subscribe(clientId, listener) {
      let set = listeners.get(clientId);
      if (!set) listeners.set(clientId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(clientId);
      };
    },
    cancelJobsOf: (clientId) => jobs.cancelAllOf(clientId),
    client(clientId) {
      const api = Object.fromEntries(
        API_METHODS.map((m) => [m, (request?: unknown) => call(m, request as ApiRequest<typeof m>, clientId)]),
      ) as unknown as VecSnapApi;
      api.onEvent = (listener) => service.subscribe(clientId, listener);
      return api;
    },
    async close() {
      while (jobs.running > 0) await new Promise((r) => setTimeout(r, 20));
      await workspace.close();
    },
  };
  return service;
}

export type { JobRef };
