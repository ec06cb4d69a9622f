import type { SortDirection, SortKey } from '../store/snapshots';

interface SortHeaderProps {
  label: string;
  sortKey: SortKey;
  active: SortKey;
  direction: SortDirection;
  onSort: (key: SortKey) => void;
  className?: string;
}

/** A column header whose button sorts by it; aria-sort tells which way. */
export function SortHeader({ label, sortKey, active, direction, onSort, className }: SortHeaderProps) {
  const current = sortKey === active;
  return (
    <th scope="col" aria-sort={current ? direction : 'none'} className={className}>
      <button type="button" className="sort" onClick={() => onSort(sortKey)}>
        {label}
        <span className="sort-mark" aria-hidden="true">
          {current ? (direction === 'ascending' ? '▲' : '▼') : ''}
        </span>
      </button>
    </th>
  );
}
