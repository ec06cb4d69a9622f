import type { SnapshotMetadata } from '../../core/service/contract';
import { compressionOf, formatBytes, formatCount } from '../format';
import { useApp } from './AppContext';
import { CopyChecksum } from './CopyChecksum';
import { IntegrityBadge } from './IntegrityBadge';
import { RelativeTime } from './RelativeTime';

interface SnapshotRowProps {
  snapshot: SnapshotMetadata;
  selected: boolean;
  inspected: boolean;
}

export function SnapshotRow({ snapshot: m, selected, inspected }: SnapshotRowProps) {
  const { actions, stores } = useApp();
  const dialogs = stores.dialogs.getState();
  return (
    <tr className={[inspected ? "inspected" : "", selected ? "selected" : ""].join(" ").trim() || undefined}>
      <td className="select">
        <input
          type="checkbox"
          aria-label={`Select ${m.name} for comparison`}
          checked={selected}
          onChange={() => stores.selection.getState().toggleCompare(m.id)}
        />
      </td>
      <th scope="row" className="name">
        {m.name}
      </th>
      <td className="note">
        {m.note && <span className="note-text">{m.note}</span>}
        {m.tags && m.tags.length > 0 && (
          <span className="tags">
            {m.tags.map((tag) => (
              <span key={tag} className="tag">
                {tag}
              </span>
            ))}
          </span>
        )}
      </td>
      <td className="created">
        <RelativeTime timestamp={m.timestamp} />
      </td>
      <td className="num">{formatCount(m.vectorCount)}</td>
      <td className="num">{m.dimension}</td>
      <td>{m.format}</td>
      <td>{compressionOf(m)}</td>
      <td className="num">{formatBytes(m.fileSize)}</td>
      <td>
        <CopyChecksum checksum={m.checksum} />
      </td>
      <td>
        <IntegrityBadge integrity={m.integrity} />
      </td>
      <td className="pinned">{m.pinned ? <span className="pin-mark">Pinned</span> : <span className="muted">—</span>}</td>
      <td>
        <div className="row-actions">
          <button type="button" onClick={() => dialogs.open({ type: 'restore', snapshot: m })}>
            Restore
          </button>
          <button
            type="button"
            className="danger"
            disabled={m.pinned === true}
            title={m.pinned ? 'Pinned snapshots cannot be deleted' : undefined}
            onClick={() => dialogs.open({ type: 'delete', snapshot: m })}
          >
            Delete
          </button>
          <button type="button" onClick={() => void actions.verify(m)}>
            Verify
          </button>
          <button type="button" aria-pressed={m.pinned === true} onClick={() => void actions.togglePin(m)}>
            Pin
          </button>
          <button type="button" onClick={() => stores.selection.getState().inspect(m.id)}>
            Inspect
          </button>
          <button type="button" onClick={() => actions.openExport({ kind: 'snapshot', snapshot: m })}>
            Export…
          </button>
        </div>
      </td>
    </tr>
  );
}
