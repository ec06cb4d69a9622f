import type { WorkspaceInfo } from '../../core/service/contract';
import { formatBytes, formatCount } from '../format';
import { AutoSave } from './AutoSave';
import { useApp, useSlice } from './AppContext';
import { RelativeTime } from './RelativeTime';

function lastSavedAt(info: WorkspaceInfo): { at: number; kind: string } | null {
  const manual = info.lastSave;
  const auto = info.autoSave.lastSavedAt;
  if (manual && (!auto || manual.at >= auto)) return { at: manual.at, kind: manual.kind };
  return auto ? { at: auto, kind: 'auto-save' } : null;
}

function changeSummary(info: WorkspaceInfo): string {
  const { added, changed, deleted } = info.changes;
  return `${formatCount(added)} added, ${formatCount(changed)} changed, ${formatCount(deleted)} deleted`;
}

/** SPEC §6 story 1: the open database, its unsaved changes, save and auto-save. */
export function DatabasePanel() {
  const { actions } = useApp();
  const info = useSlice('workspace', (s) => s.info);
  const saving = useSlice('jobs', (s) => s.order.some((id) => s.jobs[id]?.kind === 'save' && s.jobs[id]?.state === 'running'));

  if (!info) {
    return (
      <section aria-label="Database" className="panel database">
        <p className="muted">Opening the data folder…</p>
      </section>
    );
  }
  const last = lastSavedAt(info);
  return (
    <section aria-label="Database" className="panel database">
      <div className="panel-head">
        <h2>Database</h2>
      </div>
      <p className="data-dir">
        Data folder: <code>{info.dataDir}</code>
      </p>
      <dl className="facts">
        <div>
          <dt>Vectors</dt>
          <dd>{formatCount(info.count)}</dd>
        </div>
        <div>
          <dt>Dimension</dt>
          <dd>{info.dimension}</dd>
        </div>
        <div>
          <dt>Metric</dt>
          <dd>{info.metric}</dd>
        </div>
        <div>
          <dt>Memory</dt>
          <dd>{formatBytes(info.memoryBytes)}</dd>
        </div>
        <div>
          <dt>Format</dt>
          <dd>
            {info.format}
            {info.compression !== 'none' ? ` + ${info.compression}` : ''}
          </dd>
        </div>
      </dl>
      <div className="save-row">
        <p className={info.hasUnsavedChanges ? 'save-state unsaved' : 'save-state saved'}>
          <span>{info.hasUnsavedChanges ? 'Unsaved changes' : 'All changes saved'}</span>
          {info.hasUnsavedChanges && <span className="muted"> ({changeSummary(info)})</span>}
        </p>
        <button type="button" className="primary" disabled={saving} onClick={() => void actions.save(false)}>
          Save
        </button>
        <button type="button" disabled={saving} onClick={() => void actions.save(true)}>
          Save incremental
        </button>
        {last && (
          <span className="muted last-save">
            Last saved <RelativeTime timestamp={last.at} /> ({last.kind})
          </span>
        )}
      </div>
      <AutoSave state={info.autoSave} />
      {info.notices.length > 0 && (
        <ul className="notices" aria-label="Notices">
          {info.notices.map((notice, i) => (
            <li key={i}>{notice}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
