import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectFile } from '../formats/detect.js';
import { tempDir } from '../test-helpers/fixtures.js';
import type { JobFinished, JobProgress, Result, ServiceEvent, VecSnapApi } from './contract.js';
import { createService, type VecSnapService } from './service.js';

let dir: string;
let cleanup: () => void;
let service: VecSnapService;
beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  service = await createService({ dataDir: path.join(dir, 'data') });
});
afterEach(async () => {
  await service.close();
  cleanup();
});

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** Collects one client's events and waits for a job's end. */
function recorder(api: VecSnapApi) {
  const events: ServiceEvent[] = [];
  const waiters = new Map<string, (f: JobFinished) => void>();
  api.onEvent((e) => {
    events.push(e);
    if (e.type === 'jobs:finished') waiters.get(e.finished.jobId)?.(e.finished);
  });
  return {
    events,
    progressOf: (jobId: string): JobProgress[] =>
      events.flatMap((e) => (e.type === 'jobs:progress' && e.progress.jobId === jobId ? [e.progress] : [])),
    finished: (jobId: string): Promise<JobFinished> =>
      new Promise((resolve) => {
        const done = events.find((e) => e.type === 'jobs:finished' && e.finished.jobId === jobId);
        if (done && done.type === 'jobs:finished') resolve(done.finished);
        else waiters.set(jobId, resolve);
      }),
  };
}

describe('createService', () => {
  it('generates sample data with snapshots, and every job reports progress ending at 100', async () => {
    const api = service.client('a');
    const rec = recorder(api);
    const info = value(await api.workspaceInfo());
    expect(info).toMatchObject({ count: 0, snapshotCount: 0 });
    const { jobId } = value(await api.generateSampleData({ count: 2000, dimension: 32 }));
    const done = await rec.finished(jobId);
    expect(done).toMatchObject({ state: 'done', kind: 'sample', result: { count: 2000 - 10, dimension: 32 } });
    const snaps = value(await api.listSnapshots());
    expect(snaps.map((s) => s.name)).toEqual(['Nightly', 'Added support articles', 'Initial import']);
    expect(value(await api.workspaceInfo())).toMatchObject({ count: 1990, dimension: 32, hasUnsavedChanges: false, snapshotCount: 3 });
    const cmp = value(await api.compareSnapshots({ a: snaps[1]!.id, b: snaps[0]!.id }));
    const compared = await rec.finished(cmp.jobId);
    expect(compared.state).toBe('done');
    const diff = compared.kind === 'snapshot-compare' ? compared.result!.diff! : undefined;
    expect(diff).toMatchObject({ removed: 5, added: 667 });
    expect(diff!.changed).toBeGreaterThan(0);
  });

  it('restore takes a safety snapshot first, and restoring that undoes the restore', async () => {
    const api = service.client('a');
    const rec = recorder(api);
    await rec.finished(value(await api.generateSampleData({ count: 900, dimension: 8 })).jobId);
    const [latest, , first] = value(await api.listSnapshots());
    const restore = await rec.finished(value(await api.restoreSnapshot({ id: first!.id })).jobId);
    expect(restore.state).toBe('done');
    const outcome = restore.kind === 'snapshot-restore' ? restore.result! : undefined;
    expect(outcome!.safetySnapshot).toMatchObject({ tags: ['safety'], vectorCount: latest!.vectorCount });
    expect(value(await api.workspaceInfo()).count).toBe(first!.vectorCount);
    await rec.finished(value(await api.restoreSnapshot({ id: outcome!.safetySnapshot!.id, safetySnapshot: false })).jobId);
    expect(value(await api.workspaceInfo()).count).toBe(latest!.vectorCount);
  });

  it('cancelling an export of 200,000 vectors mid-way leaves no file and reports "cancelled"', async () => {
    const api = service.client('a');
    const rec = recorder(api);
    await rec.finished(value(await api.generateSampleData({ count: 200_000, dimension: 16, snapshots: 0 })).jobId);
    const out = path.join(dir, 'big.json');
    const { jobId } = value(await api.exportDatabase({ path: out, format: 'json', compression: 'gzip' }));
    // Cancel once progress passes 30%.
    await new Promise<void>((resolve) => {
      const stop = api.onEvent((e) => {
        if (e.type === 'jobs:progress' && e.progress.jobId === jobId && e.progress.percentage >= 30) {
          stop();
          void api.cancelJob({ jobId }).then(() => resolve());
        }
      });
    });
    const finished = await rec.finished(jobId);
    expect(finished).toMatchObject({ state: 'cancelled', error: { code: 'ABORTED' } });
    expect(existsSync(out)).toBe(false);
    const progress = rec.progressOf(jobId);
    expect(progress.at(-1)!.throughputUnit).toBe('items/s');
    expect(progress.at(-1)!.etaMs).toBeGreaterThan(0);
  });

  it('sends job progress only to the client that started the job, workspace changes to all', async () => {
    const a = service.client('a');
    const b = service.client('b');
    const ra = recorder(a);
    const rb = recorder(b);
    const { jobId } = value(await a.generateSampleData({ count: 500, dimension: 8 }));
    await ra.finished(jobId);
    for (let i = 0; i < 200 && !rb.events.some((e) => e.type === 'workspace:changed'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(ra.events.some((e) => e.type === 'jobs:finished')).toBe(true);
    expect(rb.events.some((e) => e.type === 'jobs:progress' || e.type === 'jobs:finished')).toBe(false);
    expect(rb.events.some((e) => e.type === 'workspace:changed')).toBe(true);
  });

  it('answers bad requests with a Result error and a code, never a throw', async () => {
    const api = service.client('a');
    expect(await api.createSnapshot({ name: '  ' })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    for (const keep of [0, 2.5, '3' as unknown as number]) {
      expect(await api.createSnapshot({ name: 'pruned', keep })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    }
    expect(await api.restoreSnapshot({ id: 'missing' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await api.exportDatabase({ path: path.join(dir, 'x'), format: 'xml' as 'json', compression: 'none' })).toMatchObject({
      ok: false,
      error: { code: 'UNSUPPORTED_FORMAT' },
    });
    expect(await service.call('nope' as 'listJobs', undefined, 'a')).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(await api.setAutoSave({ enabled: true, intervalMs: 5 })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });

  it('exports, previews and imports a file; failures end the job with a readable error', async () => {
    const api = service.client('a');
    const rec = recorder(api);
    await rec.finished(value(await api.generateSampleData({ count: 300, dimension: 8 })).jobId);
    const out = path.join(dir, 'export.sqlite.br');
    const exported = await rec.finished(value(await api.exportDatabase({ path: out, format: 'sqlite', compression: 'brotli' })).jobId);
    expect(exported.state).toBe('done');
    expect(await detectFile(out)).toEqual({ format: 'sqlite', compression: 'brotli' });
    const preview = await rec.finished(value(await api.previewImport({ path: out })).jobId);
    expect(preview).toMatchObject({ state: 'done', result: { format: 'sqlite', compression: 'brotli', verified: true, count: 290 } });
    const imported = await rec.finished(value(await api.importFile({ path: out, clear: true })).jobId);
    expect(imported).toMatchObject({ state: 'done', result: { imported: 290, count: 290 } });
    const failed = await rec.finished(value(await api.importFile({ path: path.join(dir, 'nothing.bin'), clear: false })).jobId);
    expect(failed).toMatchObject({ state: 'failed', error: { code: 'NOT_FOUND' } });
  });

  it('persists auto-save settings and saves on its own', async () => {
    const api = service.client('a');
    const rec = recorder(api);
    await rec.finished(value(await api.generateSampleData({ count: 100, dimension: 4, snapshots: 1 })).jobId);
    const info = value(await api.setAutoSave({ enabled: true, intervalMs: 1000, incremental: true }));
    expect(info.autoSave).toMatchObject({ enabled: true, intervalMs: 1000, incremental: true });
    await service.close();
    service = await createService({ dataDir: path.join(dir, 'data') });
    const again = value(await service.client('a').workspaceInfo());
    expect(again).toMatchObject({ count: 100, autoSave: { enabled: true, intervalMs: 1000 } });
  });

  it('reports unreadable snapshot metadata and orphaned data files instead of hiding them', async () => {
    const { writeFileSync, mkdirSync } = await import('node:fs');
    const snapDir = path.join(dir, 'data', 'snapshots');
    mkdirSync(snapDir, { recursive: true });
    writeFileSync(path.join(snapDir, 'broken.meta.json'), '{ not json');
    writeFileSync(path.join(snapDir, 'lost.bin'), 'data without metadata');
    const info = value(await service.client('a').workspaceInfo());
    expect(info.snapshotCount).toBe(0);
    expect(info.notices.some((n) => n.includes('broken.meta.json'))).toBe(true);
    expect(info.notices.some((n) => n.includes('lost.bin'))).toBe(true);
  });
});
