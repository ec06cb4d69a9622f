import { useState } from 'react';
import type { ImportPreviewDialog } from '../store/dialogs';
import { baseName, formatBytes, formatCount } from '../format';
import { useApp, useSlice } from './AppContext';
import { Dialog } from './Dialog';
import { ProgressBar } from './ProgressBar';

/** SPEC §6 story 6: what a file holds, checked end to end, before anything is imported. */
export function ImportPreview({ dialog }: { dialog: ImportPreviewDialog }) {
  const { actions } = useApp();
  const [replace, setReplace] = useState(false);
  const job = useSlice('jobs', (s) => (dialog.jobId ? s.jobs[dialog.jobId] : undefined));
  const inspection = dialog.inspection;
  const ready = dialog.state === 'ready' && inspection !== undefined;

  let integrity: string;
  if (dialog.state === 'checking') integrity = 'Checking…';
  else if (dialog.state === 'failed') integrity = dialog.error ?? 'The file could not be read.';
  else integrity = inspection?.verified ? 'Verified' : 'Not verified: the whole file could not be read.';

  return (
    <Dialog title="Import preview" onClose={actions.closeImportPreview}>
      <p>
        File: <code>{baseName(dialog.path)}</code>
        {inspection ? ` (${formatBytes(inspection.fileSize)})` : ''}
      </p>
      {dialog.state === 'checking' && (
        <ProgressBar label="Checking the file" value={job?.percentage ?? 0} />
      )}
      <dl className="facts preview">
        <div>
          <dt>Format</dt>
          <dd>{inspection?.format ?? '…'}</dd>
        </div>
        <div>
          <dt>Compression</dt>
          <dd>{inspection?.compression ?? '…'}</dd>
        </div>
        <div>
          <dt>Vectors</dt>
          <dd>{inspection ? formatCount(inspection.count ?? inspection.header.count) : '…'}</dd>
        </div>
        <div>
          <dt>Dimension</dt>
          <dd>{inspection?.header.dimension ?? '…'}</dd>
        </div>
        <div>
          <dt>Integrity</dt>
          <dd className={dialog.state === 'failed' ? 'error-text' : ready && inspection?.verified ? 'ok-text' : undefined}>
            {integrity}
          </dd>
        </div>
      </dl>
      {inspection?.legacy && <p className="muted">This file was written by the original ruvector-extensions module.</p>}
      <label className="check">
        <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} />
        Replace the current database
      </label>
      <p className="muted hint">
        {replace
          ? 'Everything in the database now is replaced by the file’s vectors.'
          : 'The file’s vectors are added; vectors with the same id are overwritten.'}
      </p>
      <div className="dialog-buttons">
        <button type="button" className="primary" disabled={!ready} onClick={() => void actions.importFile(dialog.path, replace)}>
          Import
        </button>
        <button type="button" onClick={actions.closeImportPreview}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
