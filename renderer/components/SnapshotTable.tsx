import { useMemo } from 'react';
import { visibleSnapshots, type SortKey } from '../store/snapshots';
import { useApp, useSlice } from './AppContext';
import { SnapshotRow } from './SnapshotRow';
import { SortHeader } from './SortHeader';

const COLUMNS: [string, SortKey, string?][] = [
  ['Name', 'name'],
  ['Note / tags', 'note'],
  ['Created', 'created'],
  ['Vectors', 'vectors', 'num'],
  ['Dimension', 'dimension', 'num'],
  ['Format', 'format'],
  ['Compression', 'compression'],
  ['Size', 'size', 'num'],
  ['Checksum', 'checksum'],
  ['Integrity', 'integrity'],
  ['Pinned', 'pinned'],
];

/** SPEC §6 story 2: every snapshot, sortable by any column, filtered by text. */
export function SnapshotTable() {
  const { stores } = useApp();
  const items = useSlice('snapshots', (s) => s.items);
  const loaded = useSlice('snapshots', (s) => s.loaded);
  const filter = useSlice('snapshots', (s) => s.filter);
  const sortKey = useSlice('snapshots', (s) => s.sortKey);
  const sortDirection = useSlice('snapshots', (s) => s.sortDirection);
  const selected = useSlice('selection', (s) => s.compare);
  const inspected = useSlice('selection', (s) => s.inspected);
  const rows = useMemo(() => visibleSnapshots({ items, filter, sortKey, sortDirection }), [items, filter, sortKey, sortDirection]);
  const { sortBy, setFilter } = stores.snapshots.getState();

  let empty: string | null = null;
  if (!loaded) empty = 'Loading snapshots…';
  else if (items.length === 0) empty = 'No snapshots yet';
  else if (rows.length === 0) empty = `No snapshot matches “${filter.trim()}”.`;

  return (
    <div className="snapshots">
      <div className="table-tools">
        <label className="field inline">
          <span>Filter snapshots</span>
          <input type="search" value={filter} placeholder="name, note, tag, format or id" onChange={(e) => setFilter(e.target.value)} />
        </label>
        <span className="muted" aria-live="polite">
          {loaded && items.length > 0 ? `${rows.length} of ${items.length} snapshots` : ''}
        </span>
      </div>
      <div className="table-scroll">
        <table aria-label="Snapshots" className="snapshot-table">
          <thead>
            <tr>
              <th scope="col" className="select">
                Select
              </th>
              {COLUMNS.map(([label, key, className]) => (
                <SortHeader
                  key={key}
                  label={label}
                  sortKey={key}
                  active={sortKey}
                  direction={sortDirection}
                  onSort={sortBy}
                  {...(className ? { className } : {})}
                />
              ))}
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((m) => (
              <SnapshotRow key={m.id} snapshot={m} selected={selected.includes(m.id)} inspected={inspected === m.id} />
            ))}
          </tbody>
        </table>
      </div>
      {empty && <p className="empty">{empty}</p>}
    </div>
  );
}
