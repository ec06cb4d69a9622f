import { useId, useState, type FormEvent } from 'react';
import type { Compression, Format } from '../../core/service/contract';
import type { ExportTarget } from '../store/dialogs';
import { defaultExportName, formatCount, withExtension } from '../format';
import { useApp, useSlice } from './AppContext';
import { Dialog } from './Dialog';
import { FormatFields } from './FormatFields';

/** The format, compression and file name an export starts with. */
export function exportDefaults(
  target: ExportTarget,
  preset: Format | undefined,
  workspaceFormat: Format | undefined,
): { format: Format; compression: Compression; fileName: string } {
  if (target.kind === 'database') {
    const format = preset ?? workspaceFormat ?? 'binary';
    return { format, compression: 'none', fileName: defaultExportName('database', format, 'none') };
  }
  const s = target.snapshot;
  const format = preset ?? s.format;
  const compression: Compression = s.compression ?? (s.compressed ? 'gzip' : 'none');
  return { format, compression, fileName: defaultExportName(s.name, format, compression) };
}

/** SPEC §6 story 6: export the database or one snapshot, choosing format and compression. */
export function ExportDialog({ target, preset }: { target: ExportTarget; preset?: Format }) {
  const { actions, stores } = useApp();
  const workspaceFormat = useSlice('workspace', (s) => s.info?.format);
  const [initial] = useState(() => exportDefaults(target, preset, workspaceFormat));
  const [format, setFormat] = useState(initial.format);
  const [compression, setCompression] = useState(initial.compression);
  const [fileName, setFileName] = useState(initial.fileName);
  const [touched, setTouched] = useState(false);
  const errorId = useId();
  const close = stores.dialogs.getState().close;
  const missing = fileName.trim() === '';

  const changeFormat = (next: Format): void => {
    setFormat(next);
    setFileName((name) => withExtension(name, next, compression));
  };
  const changeCompression = (next: Compression): void => {
    setCompression(next);
    setFileName((name) => withExtension(name, format, next));
  };
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setTouched(true);
    if (!missing) void actions.exportTo(target, fileName.trim(), format, compression);
  };

  const title = target.kind === 'database' ? 'Export database' : `Export “${target.snapshot.name}”`;
  return (
    <Dialog title={title} onClose={close}>
      <form onSubmit={submit} noValidate>
        <p className="muted">
          {target.kind === 'database'
            ? 'Writes the whole database to one file.'
            : `Writes this snapshot (${formatCount(target.snapshot.vectorCount)} vectors) to one file.`}
        </p>
        <FormatFields format={format} compression={compression} onFormat={changeFormat} onCompression={changeCompression} />
        <label className="field">
          <span>File name</span>
          <input
            value={fileName}
            required
            spellCheck={false}
            aria-invalid={touched && missing}
            aria-describedby={touched && missing ? errorId : undefined}
            onChange={(e) => setFileName(e.target.value)}
          />
        </label>
        {touched && missing && (
          <p id={errorId} className="error-text">
            Give the file a name.
          </p>
        )}
        <div className="dialog-buttons">
          <button type="submit" className="primary">
            Export
          </button>
          <button type="button" onClick={close}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
