import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ApiError, SnapshotMetadata, VecSnapApi } from '../../core/service/contract';
import { compressionOf } from '../format';

export type SortKey =
  | 'name'
  | 'note'
  | 'created'
  | 'vectors'
  | 'dimension'
  | 'format'
  | 'compression'
  | 'size'
  | 'checksum'
  | 'integrity'
  | 'pinned';
export type SortDirection = 'ascending' | 'descending';

export interface SnapshotsState {
  items: SnapshotMetadata[];
  loaded: boolean;
  sortKey: SortKey;
  sortDirection: SortDirection;
  filter: string;
  refresh(): Promise<void>;
  setItems(items: SnapshotMetadata[]): void;
  /** Sorts by `key`: ascending first, the same key again flips the direction. */
  sortBy(key: SortKey): void;
  setFilter(text: string): void;
}

export type SnapshotsStore = StoreApi<SnapshotsState>;

const INTEGRITY_ORDER = { verified: 0, unverified: 1, missing: 2, mismatch: 3 } as const;

type SortValue = string | number;
const SORT_VALUES: Record<SortKey, (m: SnapshotMetadata) => SortValue> = {
  name: (m) => m.name.toLocaleLowerCase(),
  note: (m) => `${m.note ?? ''} ${(m.tags ?? []).join(' ')}`.trim().toLocaleLowerCase(),
  created: (m) => m.timestamp,
  vectors: (m) => m.vectorCount,
  dimension: (m) => m.dimension,
  format: (m) => m.format,
  compression: (m) => compressionOf(m),
  size: (m) => m.fileSize,
  checksum: (m) => m.checksum,
  integrity: (m) => INTEGRITY_ORDER[m.integrity?.state ?? 'unverified'],
  pinned: (m) => (m.pinned ? 1 : 0),
};

/** Newest first, creation order breaking ties (as the engine lists them). */
function byCreated(a: SnapshotMetadata, b: SnapshotMetadata): number {
  return a.timestamp - b.timestamp || (a.seq ?? 0) - (b.seq ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function sortSnapshots(items: readonly SnapshotMetadata[], key: SortKey, direction: SortDirection): SnapshotMetadata[] {
  const value = SORT_VALUES[key];
  const sign = direction === 'ascending' ? 1 : -1;
  return [...items].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    const primary = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return sign * (primary || byCreated(a, b));
  });
}

/** Every whitespace-separated word must occur in the name, note, tags, format or id. */
export function filterSnapshots(items: readonly SnapshotMetadata[], text: string): SnapshotMetadata[] {
  const words = text.toLocaleLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...items];
  return items.filter((m) => {
    const haystack = [m.name, m.note ?? '', ...(m.tags ?? []), m.format, m.id].join('\n').toLocaleLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}

export function visibleSnapshots(state: Pick<SnapshotsState, 'items' | 'filter' | 'sortKey' | 'sortDirection'>): SnapshotMetadata[] {
  return sortSnapshots(filterSnapshots(state.items, state.filter), state.sortKey, state.sortDirection);
}

export function createSnapshotsStore(api: Pick<VecSnapApi, 'listSnapshots'>, report: (error: ApiError) => void): SnapshotsStore {
  let generation = 0;
  return createStore<SnapshotsState>()((set, get) => ({
    items: [],
    loaded: false,
    sortKey: 'created',
    sortDirection: 'descending',
    filter: '',
    async refresh() {
      const mine = ++generation;
      const result = await api.listSnapshots();
      if (mine !== generation) return;
      if (result.ok) set({ items: result.value, loaded: true });
      else report(result.error);
    },
    setItems(items) {
      generation++;
      set({ items, loaded: true });
    },
    sortBy(key) {
      const { sortKey, sortDirection } = get();
      if (key === sortKey) set({ sortDirection: sortDirection === 'ascending' ? 'descending' : 'ascending' });
      else set({ sortKey: key, sortDirection: 'ascending' });
    },
    setFilter: (filter) => set({ filter }),
  }));
}
