import { useId, useState, type FormEvent } from 'react';
import type { Compression, Format } from '../../core/service/contract';
import { defaultSnapshotName, parseTags } from '../format';
import { useApp, useSlice } from './AppContext';
import { Dialog } from './Dialog';
import { FormatFields } from './FormatFields';

export function CreateSnapshotDialog() {
  const { actions, stores } = useApp();
  const info = useSlice('workspace', (s) => s.info);
  const [name, setName] = useState(() => defaultSnapshotName());
  const [note, setNote] = useState('');
  const [tags, setTags] = useState('');
  const [format, setFormat] = useState<Format>(info?.format ?? 'binary');
  const [compression, setCompression] = useState<Compression>(info?.compression ?? 'none');
  const [touched, setTouched] = useState(false);
  const errorId = useId();
  const close = stores.dialogs.getState().close;
  const missing = name.trim() === '';

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setTouched(true);
    if (missing) return;
    const tagList = parseTags(tags);
    void actions.createSnapshot({
      name: name.trim(),
      ...(note.trim() ? { note: note.trim() } : {}),
      ...(tagList.length > 0 ? { tags: tagList } : {}),
      format,
      compression,
    });
  };

  return (
    <Dialog title="Create snapshot" onClose={close}>
      <form onSubmit={submit} noValidate>
        <p className="muted">
          A snapshot is a self-contained copy of the database{info ? ` (${info.count.toLocaleString('en-US')} vectors)` : ''} that you
          can restore, compare or export later.
        </p>
        <label className="field">
          <span>Name</span>
          <input
            value={name}
            required
            aria-invalid={touched && missing}
            aria-describedby={touched && missing ? errorId : undefined}
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        {touched && missing && (
          <p id={errorId} className="error-text">
            Give the snapshot a name.
          </p>
        )}
        <label className="field">
          <span>Note</span>
          <textarea rows={2} value={note} onChange={(e) => setNote(e.target.value)} />
        </label>
        <label className="field">
          <span>Tags</span>
          <input value={tags} placeholder="comma-separated, e.g. model, weekly" onChange={(e) => setTags(e.target.value)} />
        </label>
        <FormatFields format={format} compression={compression} onFormat={setFormat} onCompression={setCompression} />
        <div className="dialog-buttons">
          <button type="submit" className="primary">
            Create
          </button>
          <button type="button" onClick={close}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
