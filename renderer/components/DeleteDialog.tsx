import type { SnapshotMetadata } from '../../core/service/contract';
import { formatBytes, formatCount } from '../format';
import { useApp } from './AppContext';
import { Dialog } from './Dialog';

export function DeleteDialog({ snapshot }: { snapshot: SnapshotMetadata }) {
  const { actions, stores } = useApp();
  const close = stores.dialogs.getState().close;
  return (
    <Dialog title="Delete snapshot" onClose={close} initialFocus="button[data-cancel]">
      <p>
        Delete “{snapshot.name}” ({formatCount(snapshot.vectorCount)} vectors, {formatBytes(snapshot.fileSize)})? Its file is
        removed from the data folder. This cannot be undone.
      </p>
      <div className="dialog-buttons">
        <button type="button" className="danger" onClick={() => void actions.deleteSnapshot(snapshot)}>
          Delete
        </button>
        <button type="button" data-cancel onClick={close}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
