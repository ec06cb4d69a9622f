import type { ContentDiff, SnapshotMetadata } from '../../core/service/contract';
import { compressionOf, formatBytes, formatCount, shortChecksum } from '../format';
import { useApp, useSlice } from './AppContext';

function Side({ meta, largest }: { meta: SnapshotMetadata; largest: number }) {
  const size = formatBytes(meta.fileSize);
  const width = largest > 0 ? Math.max(1, (meta.fileSize / largest) * 100) : 0;
  return (
    <div className="compare-side">
      <h3>{meta.name}</h3>
      <div className="size-bar-track">
        <div className="size-bar" role="img" aria-label={`Size of ${meta.name}: ${size}`} style={{ width: `${width}%` }} />
      </div>
      <dl className="facts compact">
        <div>
          <dt>Size</dt>
          <dd>{size}</dd>
        </div>
        <div>
          <dt>Checksum</dt>
          <dd>
            <code title={meta.checksum}>{shortChecksum(meta.checksum)}</code>
          </dd>
        </div>
        <div>
          <dt>Vectors</dt>
          <dd>{formatCount(meta.vectorCount)}</dd>
        </div>
        <div>
          <dt>Dimension</dt>
          <dd>{meta.dimension}</dd>
        </div>
        <div>
          <dt>Format</dt>
          <dd>
            {meta.format}
            {compressionOf(meta) !== 'none' ? ` + ${compressionOf(meta)}` : ''}
          </dd>
        </div>
      </dl>
    </div>
  );
}

const KINDS = [
  ['Added', 'added', 'Ids only in the newer snapshot'],
  ['Removed', 'removed', 'Ids only in the older snapshot'],
  ['Changed', 'changed', 'Same id, different vector or metadata'],
  ['Unchanged', 'unchanged', ''],
] as const;

function Diff({ diff }: { diff: ContentDiff }) {
  return (
    <dl className="diff">
      {KINDS.map(([label, key, hint]) => {
        const samples = key === 'unchanged' ? [] : diff.samples[key];
        return (
          <div key={key} className={`diff-stat diff-${key}`}>
            <dt title={hint || undefined}>{label}</dt>
            <dd className="diff-count">{formatCount(diff[key])}</dd>
            {samples.length > 0 && (
              <dd>
                <ul className="samples" aria-label={`Sample of ${label.toLowerCase()} ids`}>
                  {samples.map((id) => (
                    <li key={id}>
                      <code>{id}</code>
                    </li>
                  ))}
                </ul>
                {diff[key] > samples.length && <span className="muted">and {formatCount(diff[key] - samples.length)} more</span>}
              </dd>
            )}
          </div>
        );
      })}
    </dl>
  );
}

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
            <Side meta={r.a} largest={Math.max(r.a.fileSize, r.b.fileSize)} />
            <Side meta={r.b} largest={Math.max(r.a.fileSize, r.b.fileSize)} />
          </div>
          <p className={r.sameContent ? 'verdict same' : 'verdict different'}>
            <strong>{r.sameContent ? 'Same content' : 'Different content'}</strong>
            {r.sameChecksum ? ' — identical files.' : ''}
            {!r.sameDimension ? ' — the dimensions differ.' : ''}
          </p>
          {r.diff ? <Diff diff={r.diff} /> : <p className="muted">No content diff was computed.</p>}
        </>
      )}
    </section>
  );
}
