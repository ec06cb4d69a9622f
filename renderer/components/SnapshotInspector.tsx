import { useEffect, useState } from 'react';
import type { SnapshotPageView } from '../../core/service/contract';
import { compactJson, formatCount, vectorPreview } from '../format';
import { useApp, useSlice } from './AppContext';

export const PAGE_SIZE = 50;

/** SPEC §6 story 5: a paged look inside one snapshot (ids, metadata, a vector preview). */
export function SnapshotInspector({ id }: { id: string }) {
  const { actions, platform, stores } = useApp();
  const meta = useSlice('snapshots', (s) => s.items.find((m) => m.id === id));
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<SnapshotPageView | null>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    let current = true;
    setLoading(true);
    void actions.call(platform.api.readSnapshotPage({ id, offset, limit: PAGE_SIZE })).then((value) => {
      if (!current) return;
      setLoading(false);
      if (value) setPage(value);
    });
    return () => {
      current = false;
    };
  }, [actions, platform, id, offset]);

  const total = page?.total ?? meta?.vectorCount ?? 0;
  const first = page && page.entries.length > 0 ? page.offset + 1 : 0;
  const last = page ? page.offset + page.entries.length : 0;
  return (
    <section aria-label="Snapshot contents" className="panel inspector" aria-busy={loading}>
      <div className="panel-head">
        <h2>Contents of “{meta?.name ?? id}”</h2>
        <button type="button" onClick={() => stores.selection.getState().inspect(null)}>
          Close inspector
        </button>
      </div>
      <div className="pager">
        <span aria-live="polite">
          {page ? (page.total === 0 ? 'No entries' : `Entries ${formatCount(first)}–${formatCount(last)} of ${formatCount(page.total)}`) : 'Loading…'}
        </span>
        <button type="button" disabled={loading || offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
          Previous page
        </button>
        <button type="button" disabled={loading || offset + PAGE_SIZE >= total} onClick={() => setOffset(offset + PAGE_SIZE)}>
          Next page
        </button>
      </div>
      <div className="table-scroll">
        <table aria-label="Entries" className="entries">
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Metadata</th>
              <th scope="col">Vector</th>
            </tr>
          </thead>
          <tbody>
            {page?.entries.map((e) => {
              const json = compactJson(e.metadata);
              return (
                <tr key={e.id}>
                  <td>
                    <code>{e.id}</code>
                  </td>
                  <td className="json" title={json}>
                    <code>{json || '—'}</code>
                  </td>
                  <td className="vector">
                    <code>{vectorPreview(e.preview, page.dimension)}</code>{' '}
                    <span className="muted">norm {e.norm.toFixed(4)}</span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
