import { promises as fsp, readFileSync, readdirSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IncrementalChain, type ChainState } from './incremental.js';
import { DatabasePersistence } from './persistence.js';
import { cloneDb, expectSameDb, makeDb, rng, tempDir } from './test-helpers/fixtures.js';
import { VectorDB } from './vector-db.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

/** A new database of `dimension`, loaded from the test's folder as a later run of the app would. */
async function loadFolder(dimension: number): Promise<VectorDB> {
  const loaded = new VectorDB({ dimension });
  await new DatabasePersistence(loaded, { baseDir: dir }).load();
  return loaded;
}

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
      expect(delta).toMatch(/incremental[\\/][0-9a-f]{16}-00000\d\.delta$/);
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
    expectSameDb(await loadFolder(8), db);
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
    expectSameDb(await loadFolder(8), expected);
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

  describe('the chain state kept in memory', () => {
    const base = { file: 'database.bin', format: 'binary', compression: 'none', contentChecksum: 'c1', sha256: 's1', bytes: 10, count: 1, savedAt: 1 } as const;
    const chainPath = () => path.join(dir, 'incremental', 'chain.json');
    const delta = (seq: number) => ({ file: `${String(seq).padStart(6, '0')}.delta`, seq, sha256: `d${seq}`, bytes: 5, upserts: 1, deletes: 0, createdAt: seq });

    it('is reused while chain.json is the file this instance wrote: one stat and one listing, no read', async () => {
      const chain = new IncrementalChain(dir);
      await chain.reset(base);
      const readFile = vi.spyOn(fsp, 'readFile');
      const open = vi.spyOn(fsp, 'open');
      try {
        const state = await chain.read();
        expect(state).toEqual({ version: 2, chainId: expect.stringMatching(/^[0-9a-f]{16}$/), base, deltas: [] });
        expect(readFile).not.toHaveBeenCalled();
        expect(open).not.toHaveBeenCalled();
        // The copy handed out cannot change what is kept.
        state!.deltas.push(delta(9));
        expect((await chain.read())!.deltas).toEqual([]);
      } finally {
        readFile.mockRestore();
        open.mockRestore();
      }
    });

    it('another writer replacing chain.json (a rename) is read, even at the same size', async () => {
      const chain = new IncrementalChain(dir);
      await chain.reset(base);
      const { chainId } = JSON.parse(readFileSync(chainPath(), 'utf8')) as { chainId: string };
      const theirs: ChainState = { version: 2, chainId: chainId.replace(/./, (c) => (c === 'a' ? 'b' : 'a')), base: { ...base, contentChecksum: 'c2', sha256: 's2' }, deltas: [] };
      const text = JSON.stringify({ version: 2, chainId: theirs.chainId, base: theirs.base }, null, 2) + '\n';
      expect(text.length).toBe(readFileSync(chainPath(), 'utf8').length);
      writeFileSync(chainPath() + '.other', text);
      renameSync(chainPath() + '.other', chainPath());
      expect(await chain.read()).toEqual(theirs);
    });

    it('an edit in place is read, and a damaged chain.json is reported even after a cached read', async () => {
      const chain = new IncrementalChain(dir);
      await chain.reset(base);
      expect((await chain.read())!.deltas).toEqual([]);
      const edited: ChainState = { version: 1, base, deltas: [delta(1)] };
      writeFileSync(chainPath(), JSON.stringify(edited));
      expect(await chain.read()).toEqual(edited);
      // Same size, same inode, and the mtime put back: the ctime still tells. (Whole seconds, so
      // utimes can set the mtime exactly.)
      const T = 1_700_000_000;
      utimesSync(chainPath(), T, T);
      expect(await chain.read()).toEqual(edited);
      const same: ChainState = { version: 1, base, deltas: [{ ...delta(1), sha256: 'd9' }] };
      writeFileSync(chainPath(), JSON.stringify(same));
      utimesSync(chainPath(), T, T);
      expect(statSync(chainPath(), { bigint: true }).mtimeNs).toBe(BigInt(T) * 1_000_000_000n);
      expect(await chain.read()).toEqual(same);
      writeFileSync(chainPath(), '{"version": 1, "base"');
      await expect(chain.read()).rejects.toMatchObject({ code: 'CORRUPT_FILE' });
      await fsp.rm(chainPath());
      expect(await chain.read()).toBeNull();
    });

    it('two instances on one folder see each other\'s deltas', async () => {
      const a = new IncrementalChain(dir);
      const b = new IncrementalChain(dir);
      await a.reset(base);
      const first = await b.read();
      expect(first!.deltas).toEqual([]);
      // a appends through its own write path; b must not keep its old copy.
      await a.reset({ ...base, contentChecksum: 'c3' });
      expect((await b.read())!.base.contentChecksum).toBe('c3');
    });
  });

  describe('the chain in the folder (version 2)', () => {
    const deltas = () => readdirSync(path.join(dir, 'incremental')).filter((n) => n.endsWith('.delta')).sort();

    async function baseAndTwoDeltas(): Promise<{ db: VectorDB; p: DatabasePersistence }> {
      const db = makeDb(300, 8, 4);
      const p = new DatabasePersistence(db, { baseDir: dir, format: 'binary', incremental: true });
      await p.saveIncremental();
      for (let round = 1; round <= 2; round++) {
        db.insert({ id: `d${round}`, vector: new Float32Array(8).fill(round) });
        db.delete(`id-${100 + round}`);
        await p.saveIncremental();
      }
      return { db, p };
    }

    it('chain.json names the base and the chain only; the deltas are read from the folder', async () => {
      const { db } = await baseAndTwoDeltas();
      const file = JSON.parse(readFileSync(path.join(dir, 'incremental', 'chain.json'), 'utf8')) as Record<string, unknown>;
      expect(Object.keys(file).sort()).toEqual(['base', 'chainId', 'version']);
      expect(file.version).toBe(2);
      expect(deltas()).toEqual([`${file.chainId as string}-000001.delta`, `${file.chainId as string}-000002.delta`]);
      const state = await new IncrementalChain(dir).read();
      expect(state!.deltas.map((d) => [d.file, d.seq, d.upserts, d.deletes])).toEqual([
        [deltas()[0], 1, 1, 1],
        [deltas()[1], 2, 1, 1],
      ]);
      expect(state!.deltas.map((d) => d.bytes)).toEqual(deltas().map((n) => statSync(path.join(dir, 'incremental', n)).size));
      expectSameDb(await loadFolder(8), db);
    });

    it("an earlier chain's deltas left behind (a crash before their removal) are never applied, even on a base of equal content", async () => {
      const db = makeDb(300, 8, 4);
      const p = new DatabasePersistence(db, { baseDir: dir, format: 'binary', incremental: true });
      await p.saveIncremental();
      db.insert({ id: 'x', vector: new Float32Array(8).fill(7) });
      await p.saveIncremental(); // a delta adding x
      const old = path.join(dir, 'old-deltas');
      await fsp.mkdir(old);
      for (const name of deltas()) await fsp.copyFile(path.join(dir, 'incremental', name), path.join(old, name));
      // Back to the base's content exactly (x was last): a full save whose content checksum is
      // the old base's, so only the chain id tells the old delta from this chain's.
      db.delete('x');
      const before = (await new IncrementalChain(dir).read())!.base.contentChecksum;
      await p.save();
      const chain = (await new IncrementalChain(dir).read())!;
      expect(chain.base.contentChecksum).toBe(before);
      for (const name of readdirSync(old)) await fsp.copyFile(path.join(old, name), path.join(dir, 'incremental', name));
      expect(deltas()).toHaveLength(1);
      const loaded = new VectorDB({ dimension: 8 });
      await new DatabasePersistence(loaded, { baseDir: dir }).load();
      expectSameDb(loaded, db);
      expect(loaded.get('x')).toBeUndefined();
      // This chain's first delta sits beside the stale one; both instances agree on the chain.
      db.insert({ id: 'y', vector: new Float32Array(8).fill(8) });
      expect(path.basename((await p.saveIncremental())!)).toBe(`${chain.chainId!}-000001.delta`);
      expect(deltas()).toHaveLength(2);
      expectSameDb(await loadFolder(8), db);
    });

    it('a missing delta in the middle fails the load with CORRUPT_FILE, and the next incremental save is a full one', async () => {
      const { db, p } = await baseAndTwoDeltas();
      await fsp.rm(path.join(dir, 'incremental', deltas()[0]!));
      const target = makeDb(3, 8, 9);
      const before = cloneDb(target);
      await expect(new DatabasePersistence(target, { baseDir: dir }).load()).rejects.toMatchObject({ code: 'CORRUPT_FILE' });
      expectSameDb(target, before);
      db.insert({ id: 'later', vector: new Float32Array(8).fill(5) });
      expect(path.basename((await p.saveIncremental())!)).toBe('database.bin');
      expect(deltas()).toEqual([]);
      expectSameDb(await loadFolder(8), db);
    });

    it("another instance's delta is seen at once, and the next delta follows it", async () => {
      const db = makeDb(100, 8, 4);
      const a = new DatabasePersistence(db, { baseDir: dir, format: 'binary', incremental: true });
      await a.saveIncremental();
      const other = cloneDb(db);
      other.takeChanges(); // b starts from what a saved, not from 100 new entries
      const b = new DatabasePersistence(other, { baseDir: dir, format: 'binary', incremental: true });
      db.insert({ id: 'from-a', vector: new Float32Array(8).fill(1) });
      await a.saveIncremental(); // a knows its chain; b has read nothing yet
      other.insert({ id: 'from-a', vector: new Float32Array(8).fill(1) });
      other.insert({ id: 'from-b', vector: new Float32Array(8).fill(2) });
      db.insert({ id: 'from-b', vector: new Float32Array(8).fill(2) });
      expect(path.basename((await b.saveIncremental())!)).toMatch(/^[0-9a-f]{16}-000002\.delta$/);
      db.insert({ id: 'from-a-again', vector: new Float32Array(8).fill(3) });
      // a's kept state says one delta; the listing says two, so a looks again and writes the third.
      expect(path.basename((await a.saveIncremental())!)).toMatch(/^[0-9a-f]{16}-000003\.delta$/);
      expectSameDb(await loadFolder(8), db);
    });

    it('a version 1 chain (deltas listed in chain.json) still loads, and the next incremental save is a full one', async () => {
      const { db, p } = await baseAndTwoDeltas();
      const chainPath = path.join(dir, 'incremental', 'chain.json');
      const current = (await new IncrementalChain(dir).read())!;
      // As a save before version 2 wrote it: the deltas listed, with their file hashes.
      const v1 = {
        version: 1,
        base: current.base,
        deltas: current.deltas.map((d) => ({ ...d, sha256: 'f'.repeat(64) })),
      };
      writeFileSync(chainPath, JSON.stringify(v1, null, 2) + '\n');
      expectSameDb(await loadFolder(8), db);
      db.insert({ id: 'next', vector: new Float32Array(8).fill(4) });
      expect(path.basename((await p.saveIncremental())!)).toBe('database.bin');
      expect((JSON.parse(readFileSync(chainPath, 'utf8')) as { version: number }).version).toBe(2);
      expect(deltas()).toEqual([]);
    });
  });
});
