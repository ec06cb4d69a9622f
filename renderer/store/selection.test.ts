import { createSelectionStore } from './selection';

describe('selection store', () => {
  it('holds at most two snapshots for comparison; a third replaces the oldest choice', () => {
    const store = createSelectionStore();
    store.getState().toggleCompare('a');
    store.getState().toggleCompare('b');
    expect(store.getState().compare).toEqual(['a', 'b']);
    store.getState().toggleCompare('c');
    expect(store.getState().compare).toEqual(['b', 'c']);
    store.getState().toggleCompare('b');
    expect(store.getState().compare).toEqual(['c']);
  });

  it('keeps the inspected snapshot and forgets ids that no longer exist', () => {
    const store = createSelectionStore();
    store.getState().toggleCompare('a');
    store.getState().toggleCompare('b');
    store.getState().inspect('a');
    store.getState().retain(['b', 'c']);
    expect(store.getState()).toMatchObject({ compare: ['b'], inspected: null });
    store.getState().inspect('c');
    store.getState().retain(['b', 'c']);
    expect(store.getState().inspected).toBe('c');
    store.getState().clearCompare();
    expect(store.getState().compare).toEqual([]);
  });

  it('stores are independent per instance', () => {
    const one = createSelectionStore();
    const two = createSelectionStore();
    one.getState().toggleCompare('a');
    expect(two.getState().compare).toEqual([]);
  });
});
