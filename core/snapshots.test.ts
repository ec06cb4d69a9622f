import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabasePersistence } from './persistence.js';
import { cloneDb, codeOf, expectSameDb, listFiles, makeDb, tempDir } from './test-helpers/fixtures.js';
import type { Format } from './types.js';
import { VectorDB } from './vector-db.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

describe('snapshots', () => {
  for (const format of ['json', 'binary', 'sqlite'] as Format[]) {
    it(`create → list → modify → restore brings back the exact content (${format})`, async () => {
      const db = makeDb(500, 16, 3);
      const original = cloneDb(db);
      const p = new DatabasePersistence(db, { baseDir: dir, format, compression: 'gzip' });
      const snap = await p.createSnapshot('before cleanup', { reason: 'test' }, { note: 'n', tags: ['t1'] });
      expect(snap).toMatchObject({
        name: 'before cleanup',
        vectorCount: 500,
        dimension: 16,
        format,
        compressed: true,
        compression: 'gzip',
        metadata: { reason: 'test' },
        note: 'n',
        tags: ['t1'],
        pinned: false,
      });
      const stored = readFileSync(path.join(dir, 'snapshots', snap.file!));
      expect(snap.checksum).toBe(createHash('sha256').update(stored).digest('hex'));
      expect(snap.fileSize).toBe(stored.length);
      const metaOnDisk = JSON.parse(readFileSync(path.join(dir, 'snapshots', `${snap.id}.meta.json`), 'utf8'));
      expect(metaOnDisk.checksum).toBe(snap.checksum);

      db.delete('id-10');
      db.insert({ id: 'extra', vector: new Float32Array(16).fill(0.5) });
      await p.restoreSnapshot(snap.id);
      expectSameDb(db, original);
    });
  }

  it('lists newest first, stable within the same millisecond', async () => {
    const db = makeDb(5);
    const p = new DatabasePersistence(db, { baseDir: dir, maxSnapshots: 50 });
    const realNow = Date.now;
    Date.now = () => 1_700_000_000_000;
    try {
      const made = [];
      for (let i = 0; i < 5; i++) made.push(await p.createSnapshot(`s${i}`));
      expect((await p.listSnapshots()).map((s) => s.name)).toEqual(['s4', 's3', 's2', 's1', 's0']);
    } finally {
      Date.now = realNow;
    }
  });

  it('retention keeps maxSnapshots unpinned ones and never deletes pinned ones', async () => {
    const db = makeDb(20);
    const p = new DatabasePersistence(db, { baseDir: dir, maxSnapshots: 3 });
    const first = await p.createSnapshot('first');
    await p.pinSnapshot(first.id, true);
    const names: string[] = [];
    for (let i = 0; i < 6; i++) names.push((await p.createSnapshot(`n${i}`)).name);
    const list = await p.listSnapshots();
    expect(list.map((s) => s.name)).toEqual(['n5', 'n4', 'n3', 'first']);
    expect(list.find((s) => s.name === 'first')!.pinned).toBe(true);
    // Deleted snapshots leave no files behind.
    const files = listFiles(path.join(dir, 'snapshots'));
    expect(files.length).toBe(8);
  });

  it('a per-call maxSnapshots prunes to that many for this create; a bad one writes nothing', async () => {
    const db = makeDb(20);
    const p = new DatabasePersistence(db, { baseDir: dir, maxSnapshots: 50 });
    for (let i = 0; i < 5; i++) await p.createSnapshot(`n${i}`);
    await p.pinSnapshot((await p.listSnapshots()).at(-1)!.id, true); // n0
    const last = await p.createSnapshot('nightly', undefined, { maxSnapshots: 2 });
    expect((await p.listSnapshots()).map((s) => s.name)).toEqual(['nightly', 'n4', 'n0']);
    expect(last.name).toBe('nightly');
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await expect(p.createSnapshot('never', undefined, { maxSnapshots: bad })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect((await p.listSnapshots()).map((s) => s.name)).toEqual(['nightly', 'n4', 'n0']);
    expect(listFiles(path.join(dir, 'snapshots')).length).toBe(6);
    // The next create without it falls back to the instance's limit (50): nothing more is pruned.
    await p.createSnapshot('later');
    expect((await p.listSnapshots()).length).toBe(4);
  });

  it('pinned snapshots are protected from delete; unpinned delete removes both files', async () => {
    const db = makeDb(20);
    const p = new DatabasePersistence(db, { baseDir: dir });
    const s = await p.createSnapshot('keep');
    await p.pinSnapshot(s.id, true);
    expect(await codeOf(p.deleteSnapshot(s.id))).toBe('INVALID_ARGUMENT');
    await p.pinSnapshot(s.id, false);
    await p.deleteSnapshot(s.id);
    expect(listFiles(path.join(dir, 'snapshots'))).toEqual([]);
    expect(await codeOf(p.deleteSnapshot(s.id))).toBe('NOT_FOUND');
  });

  it('verify detects a flipped byte; restore refuses it and leaves the db unchanged', async () => {
    const db = makeDb(200);
    const p = new DatabasePersistence(db, { baseDir: dir, format: 'sqlite' });
    const s = await p.createSnapshot('v');
    expect(await p.verifySnapshot(s.id)).toMatchObject({ ok: true, state: 'verified' });
    const file = path.join(dir, 'snapshots', s.file!);
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 1;
    writeFileSync(file, bytes);
    const result = await p.verifySnapshot(s.id);
    expect(result).toMatchObject({ ok: false, state: 'mismatch', expected: s.checksum });
    expect((await p.listSnapshots())[0]!.integrity?.state).toBe('mismatch');
    db.delete('id-50');
    const before = cloneDb(db);
    await expect(p.restoreSnapshot(s.id)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH', message: expect.stringMatching(/checksum/) });
    expectSameDb(db, before);
  });

  it("verify's integrity stamp: read back at once in this process, on disk after shutdown, lost harmlessly on a delete", async () => {
    const db = makeDb(200);
    const p = new DatabasePersistence(db, { baseDir: dir, format: 'binary' });
    const a = await p.createSnapshot('a');
    const b = await p.createSnapshot('b');
    const metaFile = (id: string) => path.join(dir, 'snapshots', `${id}.meta.json`);
    const onDisk = (id: string) => (JSON.parse(readFileSync(metaFile(id), 'utf8')) as { integrity?: { state: string; checkedAt: number } }).integrity;
    const result = await p.verifySnapshot(a.id);
    // The stamp is written after verify answers; every read in this process waits for it.
    expect((await p.listSnapshots()).find((s) => s.id === a.id)!.integrity).toEqual({ state: 'verified', checkedAt: result.checkedAt });
    expect(onDisk(a.id)).toEqual({ state: 'verified', checkedAt: result.checkedAt });
    // An update right behind the stamp keeps it (the lock is in arrival order).
    const second = await p.verifySnapshot(b.id);
    const renamed = await p.updateSnapshot(b.id, { name: 'b2' });
    expect(renamed.integrity).toEqual({ state: 'verified', checkedAt: second.checkedAt });
    // A delete right after a verify: the stamp finds nothing to update, and nothing fails.
    await p.verifySnapshot(a.id);
    await p.deleteSnapshot(a.id);
    expect((await p.listSnapshots()).map((s) => s.id)).toEqual([b.id]);
    // Shutdown waits for a stamp still being written (with nothing to save, it has nothing else to wait for).
    await p.save();
    const third = await p.verifySnapshot(b.id);
    await p.shutdown();
    expect(onDisk(b.id)).toEqual({ state: 'verified', checkedAt: third.checkedAt });
  });

  it('an unknown id → NOT_FOUND naming it; metadata without its data file → NOT_FOUND saying so', async () => {
    const db = makeDb(20);
    const before = cloneDb(db);
    const p = new DatabasePersistence(db, { baseDir: dir });
    await expect(p.restoreSnapshot('no-such-id')).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('no-such-id') });
    await expect(p.restoreSnapshot('../../etc/passwd')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const s = await p.createSnapshot('orphaned');
    rmSync(path.join(dir, 'snapshots', s.file!));
    expect((await p.listSnapshots())[0]!.integrity?.state).toBe('missing');
    expect(await p.verifySnapshot(s.id)).toMatchObject({ ok: false, state: 'missing' });
    await expect(p.restoreSnapshot(s.id)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/data file.*missing/) });
    expectSameDb(db, before);
  });

  it('compare returns the exact counts of a known difference, with samples', async () => {
    const db = makeDb(1000, 16, 5);
    const p = new DatabasePersistence(db, { baseDir: dir, format: 'binary' });
    const a = await p.createSnapshot('a');
    for (let i = 0; i < 30; i++) db.delete(`id-${100 + i}`); // 30 removed
    for (let i = 0; i < 12; i++) db.insert({ id: `new-${i}`, vector: new Float32Array(16).fill(i / 12) }); // 12 added
    for (let i = 0; i < 7; i++) {
      const e = db.get(`id-${500 + i}`)!;
      e.vector[3] = e.vector[3]! + 0.5;
      db.insert({ id: e.id, vector: e.vector, ...(e.metadata ? { metadata: e.metadata } : {}) }); // 7 vectors changed
    }
    for (let i = 0; i < 4; i++) db.insert({ id: `id-${700 + i}`, vector: db.get(`id-${700 + i}`)!.vector, metadata: { edited: i } }); // 4 metadata changed
    const b = await p.createSnapshot('b', undefined, { format: 'json', compression: 'brotli' });
    const cmp = await p.compareSnapshots(a.id, b.id, { sampleSize: 5 });
    expect(cmp.diff).toMatchObject({ added: 12, removed: 30, changed: 11, vectorsChanged: 7, metadataChanged: 4, unchanged: 1000 - 30 - 11 });
    expect(cmp.diff!.samples.added).toEqual(['new-0', 'new-1', 'new-2', 'new-3', 'new-4']);
    expect(cmp.diff!.samples.removed).toEqual(['id-100', 'id-101', 'id-102', 'id-103', 'id-104']);
    expect(cmp.countDifference).toBe(12 - 30);
    expect(cmp.sameChecksum).toBe(false);
    expect(cmp.sameContent).toBe(false);
    const same = await p.createSnapshot('b2', undefined, { format: 'sqlite' });
    const cmp2 = await p.compareSnapshots(b.id, same.id);
    expect(cmp2.sameContent).toBe(true);
    expect(cmp2.diff).toMatchObject({ added: 0, removed: 0, changed: 0, unchanged: 982 });
  });

  it('exportSnapshot copies byte for byte or converts, and refuses a damaged snapshot', async () => {
    const db = makeDb(400);
    const p = new DatabasePersistence(db, { baseDir: dir, format: 'binary', compression: 'gzip' });
    const s = await p.createSnapshot('exp');
    const copy = path.join(dir, 'copy.bin.gz');
    const copied = await p.exportSnapshot(s.id, { path: copy });
    expect(copied).toMatchObject({ copied: true, format: 'binary', compression: 'gzip', checksum: s.checksum });
    expect(readFileSync(copy).equals(readFileSync(path.join(dir, 'snapshots', s.file!)))).toBe(true);

    const converted = path.join(dir, 'converted.sqlite');
    expect(await p.exportSnapshot(s.id, { path: converted, format: 'sqlite', compression: 'none' })).toMatchObject({
      copied: false,
      vectorCount: 400,
    });
    const other = new VectorDB({ dimension: 16 });
    await new DatabasePersistence(other, { baseDir: path.join(dir, 'o') }).import({ path: converted });
    expectSameDb(other, db);

    const file = path.join(dir, 'snapshots', s.file!);
    const bytes = readFileSync(file);
    bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0xff;
    writeFileSync(file, bytes);
    for (const [target, format] of [[path.join(dir, 'bad1.bin.gz'), undefined], [path.join(dir, 'bad2.json'), 'json']] as const) {
      expect(await codeOf(p.exportSnapshot(s.id, { path: target, ...(format ? { format, compression: 'none' as const } : {}) }))).toMatch(
        /CHECKSUM_MISMATCH|CORRUPT_FILE/,
      );
      expect(listFiles(dir).some((f) => f.startsWith('bad') || f.includes('.bad'))).toBe(false);
    }
  });

  it('readSnapshotPage returns the requested slice in insertion order', async () => {
    for (const format of ['binary', 'sqlite', 'json'] as Format[]) {
      const db = makeDb(300);
      const p = new DatabasePersistence(db, { baseDir: path.join(dir, format), format });
      const s = await p.createSnapshot('paged');
      const page = await p.readSnapshotPage(s.id, { offset: 250, limit: 100 });
      expect(page.total).toBe(300);
      expect(page.entries.map((e) => e.id)).toEqual([...db.ids()].slice(250));
      expect(Buffer.from(page.entries[0]!.vector.buffer).equals(Buffer.from(db.get('id-250')!.vector.buffer))).toBe(true);
      expect(await codeOf(p.readSnapshotPage(s.id, { offset: -1 }))).toBe('INVALID_ARGUMENT');
    }
  });
});

describe("the original module's folder layout", () => {
  function legacyState(ids: string[], dimension: number) {
    const state: Record<string, unknown> = {
      version: '1.0.0',
      options: { dimension, metric: 'cosine' },
      stats: { count: ids.length, dimension, metric: 'cosine' },
      vectors: ids.map((id, i) => ({ id, vector: Array.from({ length: dimension }, (_, j) => (i + 1) * 0.01 + j), metadata: { i } })),
      metadata: {},
      timestamp: 1_690_000_000_000,
    };
    state.checksum = createHash('sha256').update(JSON.stringify(state)).digest('hex');
    return state;
  }

  it('opens its database file and restores its snapshots without conversion', async () => {
    // database.json.gzip and snapshots/<uuid>.json (gzip, no suffix) + <uuid>.meta.json
    const dim = 4;
    writeFileSync(path.join(dir, 'database.json.gzip'), zlib.gzipSync(JSON.stringify(legacyState(['a', 'b', 'c'], dim))));
    mkdirSync(path.join(dir, 'snapshots'));
    const uuid = '0b7c9a34-5d7e-4b0e-9a53-3f1a2c4d5e6f';
    const snapBytes = zlib.gzipSync(JSON.stringify(legacyState(['x', 'y'], dim)));
    writeFileSync(path.join(dir, 'snapshots', `${uuid}.json`), snapBytes);
    writeFileSync(
      path.join(dir, 'snapshots', `${uuid}.meta.json`),
      JSON.stringify(
        {
          id: uuid,
          name: 'nightly',
          timestamp: 1_690_000_000_000,
          vectorCount: 2,
          dimension: dim,
          format: 'json',
          compressed: true,
          fileSize: snapBytes.length,
          checksum: createHash('sha256').update(snapBytes).digest('hex'),
        },
        null,
        2,
      ),
    );
    writeFileSync(path.join(dir, '.incremental.json'), JSON.stringify({ lastSave: 1, vectorIds: ['a'], checksum: 'x' }));

    const db = new VectorDB({ dimension: dim });
    const p = new DatabasePersistence(db, { baseDir: dir });
    await p.load();
    expect([...db.ids()]).toEqual(['a', 'b', 'c']);
    expect(Array.from(db.get('b')!.vector)).toEqual(Array.from({ length: dim }, (_, j) => Math.fround(2 * 0.01 + j)));
    expect(db.get('c')!.metadata).toEqual({ i: 2 });

    const list = await p.listSnapshots();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: uuid, name: 'nightly', format: 'json', compressed: true });
    expect(await p.verifySnapshot(uuid)).toMatchObject({ ok: true });
    await p.restoreSnapshot(uuid);
    expect([...db.ids()]).toEqual(['x', 'y']);
  });

  it('rejects a legacy file whose own checksum does not match', async () => {
    const state = legacyState(['a', 'b'], 3);
    state.checksum = '0'.repeat(64);
    const file = path.join(dir, 'database.json');
    writeFileSync(file, JSON.stringify(state));
    const db = makeDb(3, 3);
    const before = cloneDb(db);
    await expect(new DatabasePersistence(db, { baseDir: dir }).load()).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expectSameDb(db, before);
  });
});
