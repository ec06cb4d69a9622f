import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ApiError } from '../../core/service/contract';

/** A message for the person with an optional follow-up action ("Undo restore"). */
export interface StatusMessage {
  text: string;
  action?: { label: string; run: () => void };
}

export interface AlertsState {
  /** The last error, shown as one sentence in the alert area. */
  error: ApiError | null;
  /** The last outcome worth telling ("Exported to …", "Restored …"). */
  status: StatusMessage | null;
  showError(error: ApiError): void;
  dismissError(): void;
  showStatus(status: StatusMessage): void;
  clearStatus(): void;
}

export type AlertsStore = StoreApi<AlertsState>;

export function createAlertsStore(): AlertsStore {
  return createStore<AlertsState>()((set) => ({
    error: null,
    status: null,
    showError: (error) => set({ error }),
    dismissError: () => set({ error: null }),
    showStatus: (status) => set({ status }),
    clearStatus: () => set({ status: null }),
  }));
}
