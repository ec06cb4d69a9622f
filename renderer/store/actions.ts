/**
 * The flows a person starts (buttons, menu, drops), written once over the Platform and the
 * stores. Components call these; nothing here renders.
 */
import type {
  ApiError,
  CreateSnapshotRequest,
  Compression,
  Format,
  JobFinished,
  JobKind,
  JobRef,
  JobResults,
  Result,
  ServiceEvent,
  SnapshotMetadata,
} from '../../core/service/contract';
import type { MenuCommand, Platform } from '../api/platform';
import { baseName, formatCount } from '../format';
import type { ExportTarget } from './dialogs';
import type { Stores } from './index';
import { JobStartError } from './jobs';

/** A job that ended well, with its result typed by kind. */
interface Succeeded<K extends JobKind> {
  jobId: string;
  kind: K;
  label: string;
  result: JobResults[K];
}

/** Narrows a finished job to a successful one of kind K. */
function succeeded<K extends JobKind>(f: JobFinished | null, kind: K): Succeeded<K> | null {
  if (f && f.kind === kind && f.state === 'done' && f.result !== undefined) {
    return { jobId: f.jobId, kind, label: f.label, result: f.result as JobResults[K] };
  }
  return null;
}

/** Jobs whose failure the flow shows in its own place (not in the alert area). */
const SHOWN_IN_PLACE = new Set<JobFinished['kind']>(['import-preview', 'snapshot-compare']);

export type Actions = ReturnType<typeof createActions>;

export function createActions(platform: Platform, stores: Stores) {
  const { api } = platform;
  const fail = (error: ApiError): void => stores.alerts.getState().showError(error);
  const failWith = (err: unknown): void =>
    fail({ code: 'IO_ERROR', message: err instanceof Error ? err.message : String(err) });
  const say = (text: string, action?: { label: string; run: () => void }): void =>
    stores.alerts.getState().showStatus(action ? { text, action } : { text });

  /** A short call: its value, or undefined after the error was shown. */
  async function call<T>(pending: Promise<Result<T>>): Promise<T | undefined> {
    try {
      const result = await pending;
      if (result.ok) return result.value;
      fail(result.error);
    } catch (err) {
      failWith(err);
    }
    return undefined;
  }

  /** A job: its finished event, or null when it could not start (the error is shown). */
  async function track(
    start: () => Promise<Result<JobRef>>,
    onStartError: (error: ApiError) => void = fail,
  ): Promise<JobFinished | null> {
    try {
      return await stores.jobs.getState().runJob(start);
    } catch (err) {
      if (err instanceof JobStartError) onStartError(err.error);
      else onStartError({ code: 'IO_ERROR', message: err instanceof Error ? err.message : String(err) });
      return null;
    }
  }

  const refreshAll = (): Promise<unknown> =>
    Promise.all([stores.workspace.getState().refresh(), stores.snapshots.getState().refresh()]);

  function handleEvent(event: ServiceEvent): void {
    stores.jobs.getState().handleEvent(event);
    if (event.type === 'workspace:changed') {
      stores.workspace.getState().setInfo(event.info);
      void stores.snapshots.getState().refresh();
    } else if (event.type === 'jobs:finished') {
      const f = event.finished;
      void refreshAll();
      if (f.state === 'failed' && f.error && !SHOWN_IN_PLACE.has(f.kind)) fail(f.error);
    }
  }

  /** Runs a platform call that reports upload progress as a local job. */
  async function withUpload<T>(label: string, run: (onUpload: (done: number, total: number) => void) => Promise<T>): Promise<T | undefined> {
    const jobs = stores.jobs.getState();
    let uploadId: string | undefined;
    const onUpload = (done: number, total: number): void => {
      uploadId ??= jobs.startLocal(label);
      jobs.updateLocal(uploadId, done, total);
    };
    try {
      const value = await run(onUpload);
      if (uploadId) jobs.finishLocal(uploadId, 'done');
      return value;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (uploadId) jobs.finishLocal(uploadId, 'failed', { code: 'IO_ERROR', message });
      failWith(err);
      return undefined;
    }
  }

  let autoSaveQueue: Promise<void> = Promise.resolve();

  const actions = {
    call,
    track,
    refreshAll,
    handleEvent,

    /** Subscribes to backend events and menu commands, loads everything; returns the cleanup. */
    connect(): () => void {
      const offEvents = api.onEvent(handleEvent);
      const offMenu = platform.onMenu((command) => actions.menu(command));
      const offSnapshots = stores.snapshots.subscribe((s, prev) => {
        if (s.items !== prev.items) stores.selection.getState().retain(s.items.map((m) => m.id));
      });
      void refreshAll();
      return () => {
        offEvents();
        offMenu();
        offSnapshots();
      };
    },

    async save(incremental: boolean): Promise<void> {
      const f = succeeded(await track(() => api.saveDatabase({ incremental })), 'save');
      if (f?.result.kind === 'nothing-to-save') say('Nothing to save: the files on disk are up to date.');
    },

    /** Switches auto-save; calls run one after another, so the last one wins. */
    setAutoSave(enabled: boolean, seconds: number): Promise<void> {
      autoSaveQueue = autoSaveQueue.then(async () => {
        const info = await call(api.setAutoSave({ enabled, intervalMs: Math.round(Math.max(1, seconds) * 1000) }));
        if (info) stores.workspace.getState().setInfo(info);
      });
      return autoSaveQueue;
    },

    async createSnapshot(request: CreateSnapshotRequest): Promise<void> {
      stores.dialogs.getState().close();
      const f = succeeded(await track(() => api.createSnapshot(request)), 'snapshot-create');
      if (f) say(`Created snapshot “${f.result.name}”.`);
    },

    async restore(snapshot: SnapshotMetadata): Promise<void> {
      stores.dialogs.getState().close();
      const f = succeeded(await track(() => api.restoreSnapshot({ id: snapshot.id, safetySnapshot: true })), 'snapshot-restore');
      if (!f) return;
      const safety = f.result.safetySnapshot;
      say(`Restored “${f.result.restored.name}”.`, safety ? { label: 'Undo restore', run: () => void actions.undoRestore(safety) } : undefined);
    },

    async undoRestore(safety: SnapshotMetadata): Promise<void> {
      stores.alerts.getState().clearStatus();
      const f = succeeded(await track(() => api.restoreSnapshot({ id: safety.id, safetySnapshot: false })), 'snapshot-restore');
      if (f) say('Restore undone: the database is back as it was.');
    },

    async deleteSnapshot(snapshot: SnapshotMetadata): Promise<void> {
      stores.dialogs.getState().close();
      const done = await call(api.deleteSnapshot({ id: snapshot.id }));
      if (!done) return;
      const snapshots = stores.snapshots.getState();
      snapshots.setItems(snapshots.items.filter((m) => m.id !== snapshot.id));
      say(`Deleted “${snapshot.name}”.`);
      void refreshAll();
    },

    async verify(snapshot: SnapshotMetadata): Promise<void> {
      const f = succeeded(await track(() => api.verifySnapshot({ id: snapshot.id })), 'snapshot-verify');
      if (f) say(f.result.message || `Checked “${snapshot.name}”.`);
    },

    async togglePin(snapshot: SnapshotMetadata): Promise<void> {
      const meta = await call(api.pinSnapshot({ id: snapshot.id, pinned: !snapshot.pinned }));
      if (!meta) return;
      const snapshots = stores.snapshots.getState();
      snapshots.setItems(snapshots.items.map((m) => (m.id === meta.id ? meta : m)));
    },

    /** Compares the two selected snapshots, the older one as "A". */
    async compare(): Promise<void> {
      const items = stores.snapshots.getState().items;
      const chosen = stores.selection
        .getState()
        .compare.map((id) => items.find((m) => m.id === id))
        .filter((m): m is SnapshotMetadata => m !== undefined)
        .sort((x, y) => x.timestamp - y.timestamp || (x.seq ?? 0) - (y.seq ?? 0));
      if (chosen.length !== 2) return;
      const [a, b] = [chosen[0]!.id, chosen[1]!.id];
      const comparison = stores.comparison.getState();
      const run = comparison.begin(a, b);
      let startError: string | undefined;
      const f = await track(
        () => api.compareSnapshots({ a, b }),
        (e) => (startError = e.message),
      );
      const settle = stores.comparison.getState().settle;
      const ok = succeeded(f, 'snapshot-compare');
      if (ok) settle(run, { state: 'done', result: ok.result });
      else if (f?.state === 'cancelled') settle(run, { state: 'cancelled' });
      else settle(run, { state: 'failed', error: f?.error?.message ?? startError ?? 'The comparison failed.' });
    },

    openExport(target: ExportTarget, format?: Format): void {
      stores.dialogs.getState().open(format ? { type: 'export', target, format } : { type: 'export', target });
    },

    /** The menu's "Export snapshot…": the one snapshot selected in the table. */
    exportSelected(): void {
      const ids = stores.selection.getState().compare;
      const snapshot = ids.length === 1 ? stores.snapshots.getState().items.find((m) => m.id === ids[0]) : undefined;
      if (!snapshot) fail({ code: 'INVALID_ARGUMENT', message: 'Select one snapshot to export.' });
      else actions.openExport({ kind: 'snapshot', snapshot });
    },

    async exportTo(target: ExportTarget, fileName: string, format: Format, compression: Compression): Promise<void> {
      stores.dialogs.getState().close();
      let path: string | null;
      try {
        path = await platform.chooseExportTarget(fileName);
      } catch (err) {
        failWith(err);
        return;
      }
      if (path === null) return;
      const where = path;
      const f =
        target.kind === 'database'
          ? succeeded(await track(() => api.exportDatabase({ path: where, format, compression })), 'export-database')
          : succeeded(await track(() => api.exportSnapshot({ id: target.snapshot.id, path: where, format, compression })), 'export-snapshot');
      if (!f) return;
      platform.deliverExport(f.result.path);
      say(`Exported to ${f.result.path}`);
    },

    async chooseImport(): Promise<void> {
      const path = await withUpload('Upload file', (onUpload) => platform.chooseImportFile(onUpload));
      if (path) await actions.previewImport(path);
    },

    async dropFiles(files: File[]): Promise<void> {
      if (files.length === 0) return;
      const paths = await withUpload(files.length === 1 ? `Upload ${files[0]!.name}` : `Upload ${files.length} files`, (onUpload) =>
        platform.resolveDroppedFiles(files, onUpload),
      );
      if (paths === undefined) return;
      if (paths.length === 0) fail({ code: 'INVALID_ARGUMENT', message: 'The dropped item is not a file that can be imported.' });
      else await actions.previewImport(paths[0]!);
    },

    /** Opens the import preview and checks the whole file in a job. */
    async previewImport(path: string): Promise<void> {
      const dialogs = stores.dialogs.getState();
      const key = dialogs.open({ type: 'import', path, state: 'checking' });
      let startError: string | undefined;
      const f = await track(
        async () => {
          const started = await api.previewImport({ path });
          if (started.ok) dialogs.updateImport(key, { jobId: started.value.jobId });
          return started;
        },
        (e) => (startError = e.message),
      );
      const ok = succeeded(f, 'import-preview');
      if (ok) dialogs.updateImport(key, { state: 'ready', inspection: ok.result });
      else if (f?.state === 'cancelled') dialogs.updateImport(key, { state: 'failed', error: 'The check was cancelled.' });
      else dialogs.updateImport(key, { state: 'failed', error: f?.error?.message ?? startError ?? 'The file could not be read.' });
    },

    /** Closes the import preview, cancelling its check if it still runs. */
    closeImportPreview(): void {
      const dialog = stores.dialogs.getState().dialog;
      if (dialog?.type === 'import' && dialog.state === 'checking' && dialog.jobId) void call(api.cancelJob({ jobId: dialog.jobId }));
      stores.dialogs.getState().close();
    },

    async importFile(path: string, clear: boolean): Promise<void> {
      stores.dialogs.getState().close();
      const f = succeeded(await track(() => api.importFile({ path, clear })), 'import');
      if (f) say(`Imported ${formatCount(f.result.imported)} vectors from “${baseName(path)}”.`);
    },

    async generateSample(): Promise<void> {
      const f = succeeded(await track(() => api.generateSampleData({})), 'sample');
      if (f) say(`Sample data ready: ${formatCount(f.result.count)} vectors and ${f.result.snapshots.length} snapshots.`);
    },

    async cancelJob(jobId: string): Promise<void> {
      await call(api.cancelJob({ jobId }));
    },

    menu(command: MenuCommand): void {
      switch (command) {
        case 'import':
          void actions.chooseImport();
          break;
        case 'export-database-json':
          actions.openExport({ kind: 'database' }, 'json');
          break;
        case 'export-database-binary':
          actions.openExport({ kind: 'database' }, 'binary');
          break;
        case 'export-database-sqlite':
          actions.openExport({ kind: 'database' }, 'sqlite');
          break;
        case 'export-snapshot':
          actions.exportSelected();
          break;
        case 'create-snapshot':
          stores.dialogs.getState().open({ type: 'create' });
          break;
        case 'open-folder':
          // Choosing a folder is the desktop's own dialog (handled by its platform); nothing in the web.
          break;
      }
    },
  };
  return actions;
}
