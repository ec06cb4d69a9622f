import { createStore, type StoreApi } from 'zustand/vanilla';

export const MAX_COMPARE = 2;

export interface SelectionState {
  /** Snapshot ids chosen for comparison, oldest choice first; at most two. */
  compare: string[];
  /** The snapshot whose contents the inspector shows. */
  inspected: string | null;
  /** Adds or removes an id; a third choice replaces the oldest one. */
  toggleCompare(id: string): void;
  clearCompare(): void;
  inspect(id: string | null): void;
  /** Drops ids that no longer exist (after a delete or a refresh). */
  retain(ids: Iterable<string>): void;
}

export type SelectionStore = StoreApi<SelectionState>;

export function createSelectionStore(): SelectionStore {
  return createStore<SelectionState>()((set, get) => ({
    compare: [],
    inspected: null,
    toggleCompare(id) {
      const current = get().compare;
      if (current.includes(id)) set({ compare: current.filter((x) => x !== id) });
      else set({ compare: [...current, id].slice(-MAX_COMPARE) });
    },
    clearCompare: () => set({ compare: [] }),
    inspect: (id) => set({ inspected: id }),
    retain(ids) {
      const keep = new Set(ids);
      const { compare, inspected } = get();
      const nextCompare = compare.filter((id) => keep.has(id));
      const nextInspected = inspected !== null && keep.has(inspected) ? inspected : null;
      if (nextCompare.length !== compare.length || nextInspected !== inspected) set({ compare: nextCompare, inspected: nextInspected });
    },
  }));
}
