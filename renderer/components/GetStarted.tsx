import { useApp, useSlice } from './AppContext';

/** SPEC §6 story 8: an empty data folder offers sample data. */
export function GetStarted() {
  const { actions } = useApp();
  const empty = useSlice('workspace', (s) => s.info !== null && s.info.count === 0 && s.info.snapshotCount === 0);
  const loaded = useSlice('snapshots', (s) => s.loaded && s.items.length === 0);
  const running = useSlice('jobs', (s) => s.order.some((id) => s.jobs[id]?.kind === 'sample' && s.jobs[id]?.state === 'running'));
  if (!empty || !loaded) return null;
  return (
    <section aria-label="Get started" className="panel get-started">
      <h2>Get started</h2>
      <p>
        This data folder is empty. Generate a few thousand clustered sample vectors with metadata and three snapshots to look
        around, or import a file of your own.
      </p>
      <button type="button" className="primary" disabled={running} onClick={() => void actions.generateSample()}>
        Generate sample data
      </button>
      {running && <span className="muted"> Generating… (see Jobs)</span>}
    </section>
  );
}
