import { createStore, type StoreApi } from 'zustand/vanilla';
import type { FileInspection, Format, SnapshotMetadata } from '../../core/service/contract';

export type ExportTarget = { kind: 'database' } | { kind: 'snapshot'; snapshot: SnapshotMetadata };

export interface ImportPreviewDialog {
  type: 'import';
  path: string;
  state: 'checking' | 'ready' | 'failed';
  jobId?: string;
  inspection?: FileInspection;
  /** Why the file cannot be imported (one sentence). */
  error?: string;
}

/** The one modal dialog that may be open. */
export type DialogState =
  | { type: 'create' }
  | { type: 'restore'; snapshot: SnapshotMetadata }
  | { type: 'delete'; snapshot: SnapshotMetadata }
  | { type: 'export'; target: ExportTarget; format?: Format }
  | ImportPreviewDialog;

export interface DialogsState {
  dialog: (DialogState & { key: number }) | null;
  /** Opens a dialog (replacing any other) and returns its key. */
  open(dialog: DialogState): number;
  close(): void;
  /** Updates the open import preview, if it is still the one with `key`. */
  updateImport(key: number, patch: Partial<Omit<ImportPreviewDialog, 'type' | 'path'>>): void;
}

export type DialogsStore = StoreApi<DialogsState>;

export function createDialogsStore(): DialogsStore {
  let keys = 0;
  return createStore<DialogsState>()((set, get) => ({
    dialog: null,
    open(dialog) {
      const key = ++keys;
      set({ dialog: { ...dialog, key } });
      return key;
    },
    close: () => set({ dialog: null }),
    updateImport(key, patch) {
      const current = get().dialog;
      if (current?.type === 'import' && current.key === key) set({ dialog: { ...current, ...patch } });
    },
  }));
}
