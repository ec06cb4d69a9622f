import type { SnapshotMetadata } from '../../core/service/contract';
import { formatCount, formatIso, formatRelative } from '../format';
import { useApp, useSlice } from './AppContext';
import { Dialog } from './Dialog';

/** SPEC §6 story 3: a confirmation that says what will change, and that it can be undone. */
export function RestoreDialog({ snapshot }: { snapshot: SnapshotMetadata }) {
  const { actions, stores } = useApp();
  const count = useSlice('workspace', (s) => s.info?.count);
  const close = stores.dialogs.getState().close;
  const current = count === undefined ? 'The database' : `The database (${formatCount(count)} vectors)`;
  return (
    <Dialog title="Restore snapshot" onClose={close} initialFocus="button[data-cancel]">
      <p>
        {current} will be replaced by “{snapshot.name}” ({formatCount(snapshot.vectorCount)} vectors, taken{' '}
        <time dateTime={formatIso(snapshot.timestamp)} title={formatIso(snapshot.timestamp)}>
          {formatRelative(snapshot.timestamp)}
        </time>
        ). A safety snapshot of the current database is taken first, so you can undo this.
      </p>
      <div className="dialog-buttons">
        <button type="button" className="primary" onClick={() => void actions.restore(snapshot)}>
          Restore
        </button>
        <button type="button" data-cancel onClick={close}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
