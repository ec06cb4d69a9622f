import { createStore, type StoreApi } from 'zustand/vanilla';
import type {
  ApiError,
  JobFinished,
  JobKind,
  JobProgress,
  JobRef,
  JobState,
  Result,
  ServiceEvent,
} from '../../core/service/contract';

/** What the jobs panel shows of one job (a backend job, or a local one such as an upload). */
export interface JobView {
  jobId: string;
  /** Unknown until the first event of a job this window started arrives. */
  kind?: JobKind | 'upload';
  label: string;
  state: JobState;
  startedAt: number;
  percentage: number;
  throughput?: number;
  throughputUnit?: 'B/s' | 'items/s';
  etaMs?: number;
  message?: string;
  error?: ApiError;
  finished?: JobFinished;
  /** Backend jobs can be cancelled; local ones (uploads) cannot. */
  cancellable: boolean;
}

/** Thrown by `runJob` when the backend refused to start the job. */
export class JobStartError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
    this.name = 'JobStartError';
  }
}

export interface JobsState {
  jobs: Record<string, JobView>;
  /** Job ids, newest first. */
  order: string[];
  applyProgress(progress: JobProgress): void;
  applyFinished(finished: JobFinished): void;
  handleEvent(event: ServiceEvent): void;
  /**
   * Starts a long operation and resolves with its `jobs:finished` event (whatever its state).
   * Rejects with a JobStartError when the start itself failed.
   */
  runJob(start: () => Promise<Result<JobRef>>): Promise<JobFinished>;
  /** A job that runs in this window only (an upload before an import). */
  startLocal(label: string, kind?: JobView['kind']): string;
  updateLocal(jobId: string, done: number, total: number): void;
  finishLocal(jobId: string, state: Exclude<JobState, 'running'>, error?: ApiError): void;
  clearFinished(): void;
}

export type JobsStore = StoreApi<JobsState>;

const KEEP = 30;
let localIds = 0;

export function createJobsStore(now: () => number = Date.now): JobsStore {
  const waiters = new Map<string, ((finished: JobFinished) => void)[]>();

  return createStore<JobsState>()((set, get) => {
    /** Adds or updates one job; a new job goes to the top; old finished jobs are dropped. */
    const put = (jobId: string, update: (current: JobView | undefined) => JobView): void =>
      set((s) => {
        const current = s.jobs[jobId];
        const jobs = { ...s.jobs, [jobId]: update(current) };
        let order = current ? s.order : [jobId, ...s.order];
        if (order.length > KEEP) {
          const drop = order.slice(KEEP).filter((id) => jobs[id]?.state !== 'running');
          order = order.filter((id) => !drop.includes(id));
          for (const id of drop) delete jobs[id];
        }
        return { jobs, order };
      });

    const fresh = (jobId: string, label: string): JobView => ({
      jobId,
      label,
      state: 'running',
      startedAt: now(),
      percentage: 0,
      cancellable: true,
    });

    return {
      jobs: {},
      order: [],

      applyProgress(p) {
        put(p.jobId, (current) => {
          const base = current ?? fresh(p.jobId, p.label);
          if (base.state !== 'running') return base;
          return {
            ...base,
            kind: p.kind,
            label: p.label,
            percentage: Math.max(0, Math.min(100, p.percentage)),
            message: p.message,
            throughput: p.throughput,
            throughputUnit: p.throughputUnit,
            etaMs: p.etaMs,
          };
        });
      },

      applyFinished(f) {
        put(f.jobId, (current) => ({
          ...(current ?? fresh(f.jobId, f.label)),
          kind: f.kind,
          label: f.label,
          state: f.state,
          percentage: f.state === 'done' ? 100 : (current?.percentage ?? 0),
          etaMs: undefined,
          error: f.error,
          finished: f,
        }));
        const pending = waiters.get(f.jobId);
        waiters.delete(f.jobId);
        for (const resolve of pending ?? []) resolve(f);
      },

      handleEvent(event) {
        if (event.type === 'jobs:progress') get().applyProgress(event.progress);
        else if (event.type === 'jobs:finished') get().applyFinished(event.finished);
      },

      async runJob(start) {
        const started = await start();
        if (!started.ok) throw new JobStartError(started.error);
        const { jobId } = started.value;
        // Events may have come before the answer (then the job is already listed).
        const known = get().jobs[jobId];
        if (known?.finished) return known.finished;
        if (!known) put(jobId, () => fresh(jobId, 'Starting…'));
        return new Promise<JobFinished>((resolve) => {
          waiters.set(jobId, [...(waiters.get(jobId) ?? []), resolve]);
        });
      },

      startLocal(label, kind = 'upload') {
        const jobId = `local-${++localIds}`;
        put(jobId, () => ({ ...fresh(jobId, label), kind, cancellable: false }));
        return jobId;
      },

      updateLocal(jobId, done, total) {
        put(jobId, (current) => {
          const base = current ?? { ...fresh(jobId, 'Upload'), cancellable: false };
          const seconds = (now() - base.startedAt) / 1000;
          const percentage = total > 0 ? Math.min(100, (done / total) * 100) : 0;
          return {
            ...base,
            percentage,
            ...(seconds > 0.05 ? { throughput: done / seconds, throughputUnit: 'B/s' as const } : {}),
            ...(percentage > 0 && percentage < 100 ? { etaMs: (seconds * 1000 * (100 - percentage)) / percentage } : {}),
          };
        });
      },

      finishLocal(jobId, state, error) {
        put(jobId, (current) => ({
          ...(current ?? { ...fresh(jobId, 'Upload'), cancellable: false }),
          state,
          percentage: state === 'done' ? 100 : (current?.percentage ?? 0),
          etaMs: undefined,
          error,
        }));
      },

      clearFinished() {
        set((s) => {
          const order = s.order.filter((id) => s.jobs[id]?.state === 'running');
          return { order, jobs: Object.fromEntries(order.map((id) => [id, s.jobs[id]!])) };
        });
      },
    };
  });
}
