import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { StoreApi } from 'zustand/vanilla';
import type { Platform } from '../api/platform';
import type { Actions } from '../store/actions';
import type { Stores } from '../store/index';

export interface AppServices {
  platform: Platform;
  stores: Stores;
  actions: Actions;
}

const AppContext = createContext<AppServices | null>(null);

export function AppProvider({ value, children }: { value: AppServices; children: ReactNode }) {
  return <AppContext.Provider value={value}>{children}</AppContext.Provider>;
}

export function useApp(): AppServices {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp needs an <AppProvider>.');
  return value;
}

/** The state type behind each store of `Stores`. */
type StateOf<K extends keyof Stores> = Stores[K] extends StoreApi<infer S> ? S : never;

/** Reads a slice of one of this App's stores (`useSlice('snapshots', (s) => s.items)`). */
export function useSlice<K extends keyof Stores, T>(name: K, selector: (state: StateOf<K>) => T): T {
  const store = useApp().stores[name] as unknown as StoreApi<StateOf<K>>;
  return useStore<StoreApi<StateOf<K>>, T>(store, selector);
}
