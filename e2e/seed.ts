import { createService } from '../core/service/service.js';
import { VectorDB, DatabasePersistence, generateSampleData } from '../core/index.js';

/** Fills a data folder the way "Generate sample data" does, before the app opens it. */
export async function seedSample(dataDir: string, request: { count?: number; dimension?: number; snapshots?: number } = {}): Promise<void> {
  const service = await createService({ dataDir });
  const api = service.client('seed');
  const finished = new Promise<void>((resolve, reject) => {
    api.onEvent((e) => {
      if (e.type !== 'jobs:finished') return;
      if (e.finished.state === 'done') resolve();
      else reject(new Error(e.finished.error?.message ?? 'seeding failed'));
    });
  });
  const started = await api.generateSampleData(request);
  if (!started.ok) throw new Error(started.error.message);
  await finished;
  await service.close();
}

/** A saved database of `count` vectors without snapshots (for long-running jobs). */
export async function seedLarge(dataDir: string, count: number, dimension: number): Promise<void> {
  const db = new VectorDB({ dimension });
  const batch = 20_000;
  for (let i = 0; i < count; i += batch) {
    const entries = generateSampleData({ count: Math.min(batch, count - i), dimension, seed: i + 1 });
    db.insertBatch(entries.map((e, j) => ({ ...e, id: `v-${i + j}` })));
  }
  const p = new DatabasePersistence(db, { baseDir: dataDir, format: 'binary' });
  await p.save();
  await p.shutdown();
}
