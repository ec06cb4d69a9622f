import type { JobView } from '../store/jobs';
import { formatEta, formatThroughput } from '../format';
import { useApp } from './AppContext';
import { ProgressBar } from './ProgressBar';

function endText(job: JobView): string {
  if (job.state === 'done') return 'Done';
  if (job.state === 'cancelled') return 'Cancelled';
  return `Failed: ${job.error?.message ?? 'the operation did not complete.'}`;
}

/** One job: label, progress bar, percentage, throughput, time left, Cancel — or how it ended. */
export function JobItem({ job }: { job: JobView }) {
  const { actions } = useApp();
  const running = job.state === 'running';
  return (
    <li className={`job job-${job.state}`}>
      <div className="job-head">
        <span className="job-label">{job.label}</span>
        {running ? (
          job.cancellable && (
            <button type="button" className="small" onClick={() => void actions.cancelJob(job.jobId)}>
              Cancel
            </button>
          )
        ) : (
          <span className={`job-state job-state-${job.state}`}>{endText(job)}</span>
        )}
      </div>
      <ProgressBar label={job.label} value={job.percentage} />
      <div className="job-figures">
        <span>{Math.round(job.percentage)}%</span>
        {running && job.throughput !== undefined && job.throughputUnit && (
          <span>{formatThroughput(job.throughput, job.throughputUnit)}</span>
        )}
        {running && job.etaMs !== undefined && <span>{formatEta(job.etaMs)}</span>}
        {running && job.message && <span className="muted job-message">{job.message}</span>}
      </div>
    </li>
  );
}
