import { createJobsStore, JobStartError } from './jobs';
import { finished, progress } from '../test-utils/fixtures';
import type { JobRef, Result } from '../../core/service/contract';

const started = (jobId: string): (() => Promise<Result<JobRef>>) => async () => ({ ok: true, value: { jobId } });

describe('jobs store', () => {
  it('lists jobs from progress events, newest first, with their figures', () => {
    const store = createJobsStore();
    store.getState().handleEvent({ type: 'jobs:progress', progress: progress('a', { label: 'Save', kind: 'save', percentage: 10 }) });
    store.getState().handleEvent({
      type: 'jobs:progress',
      progress: progress('b', { percentage: 42, throughput: 4000, throughputUnit: 'items/s', etaMs: 5000 }),
    });
    const { order, jobs } = store.getState();
    expect(order).toEqual(['b', 'a']);
    expect(jobs.b).toMatchObject({ label: 'Export database', state: 'running', percentage: 42, throughput: 4000, etaMs: 5000 });
    // Later progress updates the same job in place.
    store.getState().applyProgress(progress('a', { label: 'Save', kind: 'save', percentage: 60 }));
    expect(store.getState().order).toEqual(['b', 'a']);
    expect(store.getState().jobs.a?.percentage).toBe(60);
  });

  it('records how a job ended and ignores progress after that', () => {
    const store = createJobsStore();
    store.getState().applyProgress(progress('a', { percentage: 30 }));
    store.getState().applyFinished(finished('a', { state: 'cancelled' }));
    store.getState().applyProgress(progress('a', { percentage: 90 }));
    expect(store.getState().jobs.a).toMatchObject({ state: 'cancelled', percentage: 30 });

    store.getState().applyFinished(finished('b', { state: 'done' }));
    expect(store.getState().jobs.b).toMatchObject({ state: 'done', percentage: 100, label: 'Export database' });

    const error = { code: 'NO_SPACE' as const, message: 'The disk is full.' };
    store.getState().applyFinished(finished('c', { state: 'failed', error }));
    expect(store.getState().jobs.c).toMatchObject({ state: 'failed', error });
  });

  it('runJob resolves with the finished event of the job it started', async () => {
    const store = createJobsStore();
    const result = store.getState().runJob(started('job-7'));
    await Promise.resolve();
    await Promise.resolve();
    expect(store.getState().jobs['job-7']).toMatchObject({ state: 'running' });
    store.getState().applyFinished(finished('other'));
    store.getState().applyFinished(finished('job-7', { kind: 'save', label: 'Save', result: { path: '/d/database.bin', kind: 'full' } }));
    await expect(result).resolves.toMatchObject({ jobId: 'job-7', state: 'done', result: { kind: 'full' } });
  });

  it('runJob also resolves when the job finished before its id came back', async () => {
    const store = createJobsStore();
    const f = finished('early');
    const result = await store.getState().runJob(async () => {
      store.getState().applyFinished(f);
      return { ok: true, value: { jobId: 'early' } };
    });
    expect(result).toBe(f);
  });

  it('runJob rejects with the error when the job could not start', async () => {
    const store = createJobsStore();
    const error = { code: 'BUSY' as const, message: 'Another job is running.' };
    const attempt = store.getState().runJob(async () => ({ ok: false, error }));
    await expect(attempt).rejects.toBeInstanceOf(JobStartError);
    await expect(attempt).rejects.toMatchObject({ error });
    expect(store.getState().order).toEqual([]);
  });

  it('tracks local jobs (uploads) that cannot be cancelled', () => {
    let now = 1000;
    const store = createJobsStore(() => now);
    const id = store.getState().startLocal('Upload file');
    now += 2000;
    store.getState().updateLocal(id, 50, 200);
    expect(store.getState().jobs[id]).toMatchObject({ percentage: 25, throughput: 25, throughputUnit: 'B/s', cancellable: false });
    store.getState().finishLocal(id, 'done');
    expect(store.getState().jobs[id]).toMatchObject({ state: 'done', percentage: 100 });
  });

  it('clears finished jobs but keeps running ones', () => {
    const store = createJobsStore();
    store.getState().applyProgress(progress('run'));
    store.getState().applyFinished(finished('end'));
    store.getState().clearFinished();
    expect(store.getState().order).toEqual(['run']);
    expect(Object.keys(store.getState().jobs)).toEqual(['run']);
  });
});
