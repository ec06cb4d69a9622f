import { useSlice } from './AppContext';
import { CreateSnapshotDialog } from './CreateSnapshotDialog';
import { DeleteDialog } from './DeleteDialog';
import { ExportDialog } from './ExportDialog';
import { ImportPreview } from './ImportPreview';
import { RestoreDialog } from './RestoreDialog';

/** Renders the one open dialog; its key makes every opening start fresh. */
export function DialogHost() {
  const dialog = useSlice('dialogs', (s) => s.dialog);
  if (!dialog) return null;
  switch (dialog.type) {
    case 'create':
      return <CreateSnapshotDialog key={dialog.key} />;
    case 'restore':
      return <RestoreDialog key={dialog.key} snapshot={dialog.snapshot} />;
    case 'delete':
      return <DeleteDialog key={dialog.key} snapshot={dialog.snapshot} />;
    case 'export':
      return <ExportDialog key={dialog.key} target={dialog.target} {...(dialog.format ? { preset: dialog.format } : {})} />;
    case 'import':
      return <ImportPreview key={dialog.key} dialog={dialog} />;
  }
}
