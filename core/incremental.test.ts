import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabasePersistence } from './persistence.js';
import { cloneDb, expectSameDb, makeDb, rng, tempDir } from './test-helpers/fixtures.js';
import { VectorDB } from './vector-db.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

function changeOnePercent(db: VectorDB, round: number): void {
  const rand = rng(1000 + round);
  const ids = [...db.ids()];
  // 1% of 10,000: 40 updated in place, 30 deleted, 30 added (4 of them re-using deleted ids).
  for (let i = 0; i < 40; i++) {
    const e = db.get(ids[Math.floor(rand() * ids.length)]!)!;
    e.vector[0] = rand();
    db.insert({ id: e.id, vector: e.vector, metadata: { round, touched: true } });
  }
  const deleted: string[] = [];
  for (let i = 0; i < 30; i++) {
    const id = ids[Math.floor(rand() * ids.length)]!;
    if (db.delete(id)) deleted.push(id);
  }
  for (let i = 0; i < 30; i++) {
    const id = i < 4 && deleted[i] ? deleted[i]! : `r${round}-new-${i}`;
    db.insert({ id, vector: Float32Array.from({ length: db.dimension }, () => rand()) });
  }
}

describe('incremental saves', () => {
  it('a 1% change of 10,000 × 384 writes a delta < 5% of the full file; base + chain equals the live db', async () => {
    const db = makeDb(10_000, 384, 21);
    const p = new DatabasePersistence(db, { baseDir: dir, format: 'binary', incremental: true });
    const base = await p.saveIncremental(); // no base yet: a full save
    expect(path.basename(base!)).toBe('database.bin');
    const fullSize = statSync(base!).size;
    expect(await p.saveIncremental()).toBeNull(); // nothing changed

    const deltaSizes: number[] = [];
    for (let round = 1; round <= 3; round++) {
      changeOnePercent(db, round);
      const delta = await p.saveIncremental();
      expect(delta).toMatch(/incremental[\\/]00000\d\.delta$/);
      deltaSizes.push(statSync(delta!).size);
    }
    for (const size of deltaSizes) expect(size).toBeLessThan(fullSize * 0.05);
    expect(statSync(base!).size).toBe(fullSize); // the base was not rewritten

    const loaded = new VectorDB({ dimension: 384 });
    await new DatabasePersistence(loaded, { baseDir: dir }).load();
    expectSameDb(loaded, db);
    expect(loaded.hasChanges()).toBe(false);
  });

  it('compacts into a full save when the chain grows large, and a full save resets the chain', async () => {
    const db = makeDb(200, 8, 4);
    const p = new DatabasePersistence(db, { baseDir: dir, format: 'json', incremental: true });
    const base = await p.saveIncremental();
    let compacted = false;
    for (let round = 0; round < 30 && !compacted; round++) {
      for (let i = 0; i < 20; i++) db.insert({ id: `x${round}-${i}`, vector: new Float32Array(8).fill(round + i) });
      const written = await p.saveIncremental();
      compacted = written === base;
    }
    expect(compacted).toBe(true);
    expect(readdirSync(path.join(dir, 'incremental')).filter((n) => n.endsWith('.delta'))).toEqual([]);
    const loaded = new VectorDB({ dimension: 8 });
    await new DatabasePersistence(loaded, { baseDir: dir }).load();
    expectSameDb(loaded, db);
  });

  it('clear() or a restore forces the next incremental save to be full', async () => {
    const db = makeDb(100, 8, 4);
    const p = new DatabasePersistence(db, { baseDir: dir, format: 'binary', incremental: true });
    const base = await p.saveIncremental();
    db.clear();
    db.insert({ id: 'only', vector: new Float32Array(8).fill(1) });
    expect(await p.saveIncremental()).toBe(base);
    const loaded = new VectorDB({ dimension: 8 });
    await new DatabasePersistence(loaded, { baseDir: dir }).load();
    expect([...loaded.ids()]).toEqual(['only']);
  });

  it('deltas never apply to a different base (a newer full save replaced it)', async () => {
    const db = makeDb(100, 8, 4);
    const p = new DatabasePersistence(db, { baseDir: dir, format: 'binary', incremental: true });
    const base = await p.saveIncremental();
    db.insert({ id: 'delta-only', vector: new Float32Array(8).fill(2) });
    await p.saveIncremental();
    // Someone writes another valid database over the base file (same size is not enough to fool us).
    const other = makeDb(100, 8, 5);
    const expected = cloneDb(other);
    await new DatabasePersistence(other, { baseDir: path.join(dir, 'elsewhere') }).export({ path: base!, format: 'binary' });
    const loaded = new VectorDB({ dimension: 8 });
    await new DatabasePersistence(loaded, { baseDir: dir }).load();
    expectSameDb(loaded, expected);
  });

  it('a damaged delta fails the load and leaves the db untouched', async () => {
    const db = makeDb(100, 8, 4);
    const p = new DatabasePersistence(db, { baseDir: dir, format: 'binary', incremental: true });
    await p.saveIncremental();
    db.insert({ id: 'n', vector: new Float32Array(8).fill(3) });
    const delta = await p.saveIncremental();
    writeFileSync(delta!, 'garbage');
    const target = makeDb(3, 8, 9);
    const before = cloneDb(target);
    await expect(new DatabasePersistence(target, { baseDir: dir }).load()).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
    expectSameDb(target, before);
  });
});
