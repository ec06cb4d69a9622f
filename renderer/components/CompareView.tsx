import { useApp, useSlice } from './AppContext';
import { CompareSide } from './CompareSide';
import { DiffCounts } from './DiffCounts';

/** SPEC §6 story 4: two snapshots side by side and the content diff between them. */
export function CompareView() {
  const { stores } = useApp();
  const view = useSlice('comparison', (s) => s.view);
  const items = useSlice('snapshots', (s) => s.items);
  if (!view) return null;
  const name = (id: string): string => items.find((m) => m.id === id)?.name ?? id;
  const r = view.result;
  return (
    <section aria-label="Comparison" className="panel comparison">
      <div className="panel-head">
        <h2>
          Comparison: {r?.a.name ?? name(view.a)} → {r?.b.name ?? name(view.b)}
        </h2>
        <button type="button" onClick={() => stores.comparison.getState().close()}>
          Close comparison
        </button>
      </div>
      {view.state === 'running' && <p className="muted">Comparing… (see Jobs)</p>}
      {view.state === 'cancelled' && <p className="muted">The comparison was cancelled.</p>}
      {view.state === 'failed' && <p className="error-text">{view.error}</p>}
      {r && (
        <>
          <div className="compare-sides">
            <CompareSide meta={r.a} largest={Math.max(r.a.fileSize, r.b.fileSize)} />
            <CompareSide meta={r.b} largest={Math.max(r.a.fileSize, r.b.fileSize)} />
          </div>
          <p className={r.sameContent ? 'verdict same' : 'verdict different'}>
            <strong>{r.sameContent ? 'Same content' : 'Different content'}</strong>
            {r.sameChecksum ? ' — identical files.' : ''}
            {!r.sameDimension ? ' — the dimensions differ.' : ''}
          </p>
          {r.diff ? <DiffCounts diff={r.diff} /> : <p className="muted">No content diff was computed.</p>}
        </>
      )}
    </section>
  );
}
