import { createSnapshotsStore, filterSnapshots, sortSnapshots, visibleSnapshots } from './snapshots';
import { makeSnapshot, sampleSnapshots } from '../test-utils/fixtures';

const names = (items: { name: string }[]): string[] => items.map((m) => m.name);

describe('snapshot sorting and filtering', () => {
  const items = sampleSnapshots();

  it('sorts newest first by default', () => {
    const store = createSnapshotsStore({ listSnapshots: vi.fn() }, vi.fn());
    const { sortKey, sortDirection } = store.getState();
    expect([sortKey, sortDirection]).toEqual(['created', 'descending']);
    expect(names(visibleSnapshots({ items: [...items].reverse(), filter: '', sortKey, sortDirection }))).toEqual([
      'Nightly',
      'Added support articles',
      'Initial import',
    ]);
  });

  it('sorts by any column, ascending first, then toggles', () => {
    const store = createSnapshotsStore({ listSnapshots: vi.fn() }, vi.fn());
    store.getState().sortBy('name');
    expect(store.getState()).toMatchObject({ sortKey: 'name', sortDirection: 'ascending' });
    expect(names(visibleSnapshots({ ...store.getState(), items }))).toEqual(['Added support articles', 'Initial import', 'Nightly']);
    store.getState().sortBy('name');
    expect(store.getState().sortDirection).toBe('descending');
    expect(names(sortSnapshots(items, 'vectors', 'ascending'))).toEqual(['Initial import', 'Added support articles', 'Nightly']);
    expect(names(sortSnapshots(items, 'integrity', 'ascending'))).toEqual(['Nightly', 'Added support articles', 'Initial import']);
  });

  it('breaks ties by creation order, so equal values keep a stable order', () => {
    const t = Date.now();
    const a = makeSnapshot({ name: 'A', timestamp: t, seq: 1, fileSize: 10 });
    const b = makeSnapshot({ name: 'B', timestamp: t, seq: 2, fileSize: 10 });
    expect(names(sortSnapshots([a, b], 'created', 'descending'))).toEqual(['B', 'A']);
    expect(names(sortSnapshots([b, a], 'size', 'ascending'))).toEqual(['A', 'B']);
  });

  it('filters over name, note, tags, format and id; every word must match', () => {
    expect(names(filterSnapshots(items, 'night'))).toEqual(['Nightly']);
    expect(names(filterSnapshots(items, 'SUPPORT'))).toEqual(['Added support articles']);
    expect(names(filterSnapshots(items, 'first load'))).toEqual(['Initial import']);
    expect(names(filterSnapshots(items, 'sqlite'))).toEqual(['Initial import']);
    expect(names(filterSnapshots(items, 'sample json'))).toEqual(['Added support articles']);
    expect(names(filterSnapshots(items, 'initial'))).toEqual(['Initial import']);
    expect(filterSnapshots(items, '  ')).toHaveLength(3);
    expect(filterSnapshots(items, 'nothing-like-this')).toEqual([]);
  });

  it('refresh keeps only the newest answer and reports errors', async () => {
    const report = vi.fn();
    let answer!: (v: unknown) => void;
    const listSnapshots = vi
      .fn()
      .mockImplementationOnce(() => new Promise((r) => (answer = r)))
      .mockResolvedValueOnce({ ok: true, value: items })
      .mockResolvedValueOnce({ ok: false, error: { code: 'IO_ERROR', message: 'The snapshots folder cannot be read.' } });
    const store = createSnapshotsStore({ listSnapshots }, report);
    const slow = store.getState().refresh();
    await store.getState().refresh();
    answer({ ok: true, value: [] });
    await slow;
    expect(store.getState().items).toHaveLength(3);
    await store.getState().refresh();
    expect(report).toHaveBeenCalledWith({ code: 'IO_ERROR', message: 'The snapshots folder cannot be read.' });
    expect(store.getState().items).toHaveLength(3);
  });
});
