import { createStore, type StoreApi } from 'zustand/vanilla';
import type { SnapshotComparison } from '../../core/service/contract';

export interface ComparisonView {
  a: string;
  b: string;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  result?: SnapshotComparison;
  error?: string;
}

export interface ComparisonState {
  view: ComparisonView | null;
  /** Which run is current: a newer Compare replaces an older one still running. */
  run: number;
  begin(a: string, b: string): number;
  settle(run: number, patch: Partial<ComparisonView>): void;
  close(): void;
}

export type ComparisonStore = StoreApi<ComparisonState>;

export function createComparisonStore(): ComparisonStore {
  return createStore<ComparisonState>()((set, get) => ({
    view: null,
    run: 0,
    begin(a, b) {
      const run = get().run + 1;
      set({ run, view: { a, b, state: 'running' } });
      return run;
    },
    settle(run, patch) {
      const { view } = get();
      if (run === get().run && view) set({ view: { ...view, ...patch } });
    },
    close: () => set((s) => ({ view: null, run: s.run + 1 })),
  }));
}
