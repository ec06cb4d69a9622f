import { randomUUID } from 'node:crypto';
import { isVecSnapError, toVecSnapError } from '../errors.js';
import { yieldToEventLoop } from '../io/event-loop.js';
import type { ProgressInfo } from '../types.js';
import type { ApiError, JobFinished, JobInfo, JobKind, JobProgress, JobResults } from './contract.js';

export interface JobContext {
  signal: AbortSignal;
  onProgress: (progress: ProgressInfo) => void;
}

interface Job {
  info: JobInfo;
  owner: string;
  controller: AbortController;
}

export interface JobEvents {
  progress(owner: string, progress: JobProgress): void;
  finished(owner: string, finished: JobFinished): void;
}

const KEEP_FINISHED = 50;

export function toApiError(err: unknown, context: string): ApiError {
  const e = isVecSnapError(err) ? err : toVecSnapError(err, context);
  return { code: e.code, message: e.message };
}

/**
 * Long operations as jobs: an id, an AbortController, progress enriched with throughput and time
 * left, and one `finished` event. Events go to the client that started the job only.
 */
export class JobRunner {
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly events: JobEvents) {}

  start<K extends JobKind>(
    kind: K,
    label: string,
    owner: string,
    work: (ctx: JobContext) => Promise<JobResults[K]>,
  ): { jobId: string; done: Promise<void> } {
    const jobId = randomUUID();
    const controller = new AbortController();
    const startedAt = Date.now();
    const job: Job = { info: { jobId, kind, label, state: 'running', startedAt }, owner, controller };
    this.jobs.set(jobId, job);
    const onProgress = (p: ProgressInfo): void => {
      if (job.info.state !== 'running') return;
      const progress = enrich(jobId, kind, label, startedAt, p);
      job.info.progress = progress;
      this.events.progress(owner, progress);
    };
    const done = (async () => {
      let finished: JobFinished;
      try {
        // Let the caller receive the job id before the first event.
        await yieldToEventLoop();
        const result = await work({ signal: controller.signal, onProgress });
        job.info.state = 'done';
        finished = { jobId, kind, label, state: 'done', elapsedMs: Date.now() - startedAt, result } as JobFinished;
      } catch (err) {
        const error = toApiError(err, label);
        const cancelled = error.code === 'ABORTED';
        job.info.state = cancelled ? 'cancelled' : 'failed';
        job.info.error = error;
        finished = { jobId, kind, label, state: job.info.state, elapsedMs: Date.now() - startedAt, error } as JobFinished;
      }
      this.events.finished(owner, finished);
      this.prune();
    })();
    return { jobId, done };
  }

  cancel(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job || job.info.state !== 'running') return false;
    job.controller.abort();
    return true;
  }

  /** Cancels every running job of one client (its window closed). */
  cancelAllOf(owner: string): number {
    let n = 0;
    for (const job of this.jobs.values()) if (job.owner === owner && this.cancel(job.info.jobId)) n++;
    return n;
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((j) => ({ ...j.info }));
  }

  get running(): number {
    return [...this.jobs.values()].filter((j) => j.info.state === 'running').length;
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.info.state !== 'running');
    for (const job of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(job.info.jobId);
  }
}

function enrich(jobId: string, kind: JobKind, label: string, startedAt: number, p: ProgressInfo): JobProgress {
  const elapsedMs = Date.now() - startedAt;
  const seconds = elapsedMs / 1000;
  const progress: JobProgress = {
    jobId,
    kind,
    label,
    percentage: p.percentage,
    current: p.current,
    total: p.total,
    message: p.message,
    elapsedMs,
    ...(p.phase !== undefined ? { phase: p.phase } : {}),
    ...(p.bytesDone !== undefined ? { bytesDone: p.bytesDone } : {}),
    ...(p.bytesTotal !== undefined ? { bytesTotal: p.bytesTotal } : {}),
  };
  if (seconds > 0.05) {
    if (p.bytesDone !== undefined) {
      progress.throughput = p.bytesDone / seconds;
      progress.throughputUnit = 'B/s';
    } else if (p.current > 0) {
      progress.throughput = p.current / seconds;
      progress.throughputUnit = 'items/s';
    }
  }
  if (p.percentage > 0 && p.percentage < 100) progress.etaMs = Math.round((elapsedMs * (100 - p.percentage)) / p.percentage);
  return progress;
}
