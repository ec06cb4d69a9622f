import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ApiError, VecSnapApi, WorkspaceInfo } from '../../core/service/contract';

export interface WorkspaceState {
  info: WorkspaceInfo | null;
  loading: boolean;
  /** Asks the backend for the current WorkspaceInfo. */
  refresh(): Promise<void>;
  /** Takes an info the backend pushed ('workspace:changed') or answered (setAutoSave). */
  setInfo(info: WorkspaceInfo): void;
}

export type WorkspaceStore = StoreApi<WorkspaceState>;

export function createWorkspaceStore(api: Pick<VecSnapApi, 'workspaceInfo'>, report: (error: ApiError) => void): WorkspaceStore {
  // Answers can overtake each other; only the newest request's answer counts.
  let generation = 0;
  return createStore<WorkspaceState>()((set) => ({
    info: null,
    loading: false,
    async refresh() {
      const mine = ++generation;
      set({ loading: true });
      const result = await api.workspaceInfo();
      if (mine !== generation) return;
      if (result.ok) set({ info: result.value, loading: false });
      else {
        set({ loading: false });
        report(result.error);
      }
    },
    setInfo(info) {
      generation++;
      set({ info, loading: false });
    },
  }));
}
