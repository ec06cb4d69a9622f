import { useApp, useSlice } from './AppContext';
import { JobItem } from './JobItem';

/** SPEC §6 story 7: every long operation, newest first. */
export function JobsPanel() {
  const { stores } = useApp();
  const order = useSlice('jobs', (s) => s.order);
  const jobs = useSlice('jobs', (s) => s.jobs);
  const anyEnded = order.some((id) => jobs[id]?.state !== 'running');
  return (
    <section aria-label="Jobs" className="panel jobs">
      <div className="panel-head">
        <h2>Jobs</h2>
        {anyEnded && (
          <button type="button" className="small quiet" onClick={() => stores.jobs.getState().clearFinished()}>
            Clear finished
          </button>
        )}
      </div>
      {order.length === 0 ? (
        <p className="muted">Long operations (saves, snapshots, exports, imports) show their progress here.</p>
      ) : (
        <ul className="job-list">
          {order.map((id) => {
            const job = jobs[id];
            return job ? <JobItem key={id} job={job} /> : null;
          })}
        </ul>
      )}
    </section>
  );
}
