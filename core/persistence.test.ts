import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectFile } from './formats/detect.js';
import { DatabasePersistence } from './persistence.js';
import { replacedFilesFreed } from './io/atomic-write.js';
import { cloneDb, codeOf, expectSameDb, heldDeletedFiles, listFiles, makeDb, tempDir } from './test-helpers/fixtures.js';
import type { Compression, Format, ProgressInfo } from './types.js';
import { VectorDB } from './vector-db.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

const FORMATS: Format[] = ['json', 'binary', 'sqlite'];
const COMPRESSIONS: Compression[] = ['none', 'gzip', 'brotli'];

describe('round trips: every format × compression, bit-exact', () => {
  for (const format of FORMATS) {
    for (const compression of COMPRESSIONS) {
      it(`${format} + ${compression}`, async () => {
        const db = makeDb(700, 24, 7);
        const p = new DatabasePersistence(db, { baseDir: dir, format, compression, batchSize: 128 });
        const progress: ProgressInfo[] = [];
        const file = await p.save({ onProgress: (e) => progress.push(e) });
        expect(await detectFile(file)).toEqual({ format, compression });
        expect(progress.at(-1)?.percentage).toBe(100);
        expect(progress.map((e) => e.percentage)).toEqual([...progress.map((e) => e.percentage)].sort((a, b) => a - b));

        const loaded = new VectorDB({ dimension: 24 });
        const q = new DatabasePersistence(loaded, { baseDir: dir, format, compression });
        await q.load({ path: file });
        expectSameDb(loaded, db);
        expect(loaded.hasChanges()).toBe(false);
      });
    }
  }

  for (const format of FORMATS) {
    it(`${format}: an empty database round-trips`, async () => {
      const db = new VectorDB({ dimension: 8, metric: 'euclidean' });
      const p = new DatabasePersistence(db, { baseDir: dir, format });
      const file = await p.save();
      const loaded = new VectorDB({ dimension: 8 });
      await new DatabasePersistence(loaded, { baseDir: dir }).load({ path: file });
      expect(loaded.size).toBe(0);
      expect(loaded.metric).toBe('euclidean');
    });
  }

  it('load() without a path finds the latest save; the default path follows SPEC §3', async () => {
    const db = makeDb(50);
    const p = new DatabasePersistence(db, { baseDir: dir, format: 'binary', compression: 'gzip' });
    const file = await p.save();
    expect(path.basename(file)).toBe('database.bin.gz');
    const loaded = new VectorDB({ dimension: 16 });
    await new DatabasePersistence(loaded, { baseDir: dir }).load();
    expectSameDb(loaded, db);
  });

  it('detects compressed SQLite files whose first pages inflate a thousandfold', async () => {
    const db = makeDb(3000, 128, 5);
    const p = new DatabasePersistence(db, { baseDir: dir, format: 'sqlite' });
    for (const compression of ['brotli', 'gzip'] as const) {
      const out = path.join(dir, `big.sqlite.${compression}`);
      await p.export({ path: out, format: 'sqlite', compress: compression });
      expect(readFileSync(out).length).toBeGreaterThan(1024 * 1024);
      expect(await detectFile(out)).toEqual({ format: 'sqlite', compression });
    }
  });

  it('a compressed JSON export is readable by plain gunzip + JSON.parse', async () => {
    const db = makeDb(30);
    const p = new DatabasePersistence(db, { baseDir: dir });
    const out = path.join(dir, 'export.json.gz');
    const result = await p.export({ path: out, format: 'json', compress: 'gzip' });
    expect(result.vectorCount).toBe(30);
    const parsed = JSON.parse(zlib.gunzipSync(readFileSync(out)).toString('utf8')) as { vectors: { id: string }[] };
    expect(parsed.vectors.map((v) => v.id)).toEqual([...db.ids()]);
  });

  it('detects the format from content, not from a misleading extension', async () => {
    const db = makeDb(40);
    const p = new DatabasePersistence(db, { baseDir: dir });
    const out = path.join(dir, 'looks-like.json');
    await p.export({ path: out, format: 'sqlite', compress: 'brotli' });
    expect(await detectFile(out)).toEqual({ format: 'sqlite', compression: 'brotli' });
    const other = new VectorDB({ dimension: 16 });
    await new DatabasePersistence(other, { baseDir: dir }).import({ path: out, format: 'json' });
    expectSameDb(other, db);
  });

  it('import merges (upsert) by default and replaces with clear', async () => {
    const source = makeDb(20, 16, 3);
    const sp = new DatabasePersistence(source, { baseDir: path.join(dir, 'src') });
    const file = path.join(dir, 'src.bin');
    await sp.export({ path: file, format: 'binary' });

    const target = new VectorDB({ dimension: 16 });
    target.insert({ id: 'keep-me', vector: new Float32Array(16).fill(0.5) });
    const tp = new DatabasePersistence(target, { baseDir: path.join(dir, 'dst') });
    const merged = await tp.import({ path: file });
    expect(merged).toMatchObject({ imported: 20, count: 21, format: 'binary' });
    expect(target.has('keep-me')).toBe(true);

    await tp.import({ path: file, clear: true });
    expect(target.has('keep-me')).toBe(false);
    expectSameDb(target, source);
  });
});

describe.runIf(process.platform === 'linux')('a save over a big earlier save', () => {
  it('frees the earlier file once the save is done, and the new one loads', async () => {
    // 12,000 × 384 float32 is 18 MB: past the size whose replaced file is freed after the save.
    const db = makeDb(12_000, 384, 3);
    const p = new DatabasePersistence(db, { baseDir: dir, format: 'binary', compression: 'none' });
    const file = await p.save();
    db.insert({ id: 'added-later', vector: new Float32Array(384).fill(0.5) });
    let heldWhenDone: string[] = [];
    const onProgress = (e: ProgressInfo) => {
      if (e.percentage === 100) heldWhenDone = heldDeletedFiles(dir);
    };
    expect(await p.save({ onProgress })).toBe(file);
    // Still held when the save reports it is done; the save did not wait for it to be freed.
    expect(heldWhenDone).toEqual([`${file} (deleted)`]);
    await replacedFilesFreed();
    expect(heldDeletedFiles(dir)).toEqual([]);
    const loaded = new VectorDB({ dimension: 384 });
    await new DatabasePersistence(loaded, { baseDir: dir }).load({ path: file });
    expectSameDb(loaded, db);
    expect(listFiles(dir).filter((f) => f.includes('vecsnap-tmp'))).toEqual([]);
  });
});

describe('failure leaves the database exactly as it was', () => {
  async function setup(format: Format = 'binary', compression: Compression = 'none') {
    const db = makeDb(300, 16, 11);
    const p = new DatabasePersistence(db, { baseDir: dir, format, compression, batchSize: 64 });
    const file = await p.save();
    const live = makeDb(40, 16, 99); // what the user has in memory now
    const before = cloneDb(live);
    const lp = new DatabasePersistence(live, { baseDir: dir });
    return { file, live, before, lp };
  }

  it('truncated file → CORRUPT_FILE', async () => {
    for (const format of FORMATS) {
      const { file, live, before, lp } = await setup(format);
      const bytes = readFileSync(file);
      writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      expect(await codeOf(lp.load({ path: file }))).toBe('CORRUPT_FILE');
      expectSameDb(live, before);
    }
  });

  it('truncated gzip → CORRUPT_FILE', async () => {
    const { file, live, before, lp } = await setup('json', 'gzip');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    expect(await codeOf(lp.load({ path: file }))).toBe('CORRUPT_FILE');
    expectSameDb(live, before);
  });

  it('a flipped byte in the vectors → CHECKSUM_MISMATCH, naming the checksum', async () => {
    for (const format of ['binary', 'json'] as const) {
      const { file, live, before, lp } = await setup(format);
      const bytes = readFileSync(file);
      if (format === 'json') {
        // Change one digit into another so the JSON stays valid.
        let i = Math.floor(bytes.length / 2);
        while (!(bytes[i]! >= 0x31 && bytes[i]! <= 0x38)) i++;
        bytes[i] = bytes[i]! + 1;
      } else {
        // Flip a bit inside the raw float32 block of a known vector.
        const v = cloneDb(makeDb(300, 16, 11)).get('id-150')!.vector;
        const at = bytes.indexOf(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
        expect(at).toBeGreaterThan(0);
        bytes[at + 5] = bytes[at + 5]! ^ 0x10;
      }
      writeFileSync(file, bytes);
      await expect(lp.load({ path: file })).rejects.toMatchObject({
        code: 'CHECKSUM_MISMATCH',
        message: expect.stringMatching(/checksum/i),
      });
      expectSameDb(live, before);
    }
  });

  it('wrong magic → UNSUPPORTED_FORMAT', async () => {
    const { file, live, before, lp } = await setup('binary');
    const bytes = readFileSync(file);
    bytes.write('XXXX', 0, 'latin1');
    writeFileSync(file, bytes);
    expect(await codeOf(lp.load({ path: file }))).toBe('UNSUPPORTED_FORMAT');
    expectSameDb(live, before);
  });

  it('gzip of garbage → UNSUPPORTED_FORMAT; gzip header with damaged data → CORRUPT_FILE', async () => {
    const { live, before, lp } = await setup();
    const garbage = path.join(dir, 'garbage.gz');
    writeFileSync(garbage, zlib.gzipSync(Buffer.from('this is not a vector database at all')));
    expect(await codeOf(lp.load({ path: garbage }))).toBe('UNSUPPORTED_FORMAT');
    const damaged = path.join(dir, 'damaged.gz');
    writeFileSync(damaged, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), Buffer.alloc(200, 0xff)]));
    expect(await codeOf(lp.load({ path: damaged }))).toBe('CORRUPT_FILE');
    expectSameDb(live, before);
  });

  it('importing a different dimension without clear → DIMENSION_MISMATCH', async () => {
    const { file, before } = await setup();
    const other = makeDb(10, 8, 5);
    const beforeOther = cloneDb(other);
    const op = new DatabasePersistence(other, { baseDir: path.join(dir, 'other') });
    await expect(op.import({ path: file })).rejects.toMatchObject({ code: 'DIMENSION_MISMATCH' });
    expectSameDb(other, beforeOther);
    expect(before.size).toBe(40);
  });

  it('NaN in a vector of a file → INVALID_VECTOR', async () => {
    const { live, before, lp } = await setup();
    const file = path.join(dir, 'nan.json');
    writeFileSync(
      file,
      JSON.stringify({
        version: '1.0.0',
        options: { dimension: 2, metric: 'cosine' },
        stats: { count: 2 },
        vectors: [
          { id: 'ok', vector: [1, 2] },
          { id: 'bad', vector: [1, 'NaN'] },
        ],
        timestamp: 1,
      }),
    );
    await expect(lp.load({ path: file })).rejects.toMatchObject({ code: 'INVALID_VECTOR', message: expect.stringContaining('bad') });
    expectSameDb(live, before);
  });

  it('a file that does not exist → NOT_FOUND', async () => {
    const { live, before, lp } = await setup();
    expect(await codeOf(lp.load({ path: path.join(dir, 'nope.bin') }))).toBe('NOT_FOUND');
    expectSameDb(live, before);
  });

  it('bad arguments get INVALID_ARGUMENT / UNSUPPORTED_FORMAT', async () => {
    const db = makeDb(3);
    expect(() => new DatabasePersistence(db, { baseDir: '' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const p = new DatabasePersistence(db, { baseDir: dir });
    expect(await codeOf(p.save({ format: 'xml' as Format }))).toBe('UNSUPPORTED_FORMAT');
    expect(await codeOf(p.export({ path: '' }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(p.createSnapshot(''))).toBe('INVALID_ARGUMENT');
  });
});

describe('abort leaves no partial file and no changed state', () => {
  /**
   * Aborts on the first progress report: progress is throttled to 20 a second, so on these small
   * files the first report (after the first chunk) is the only one that comes mid-way.
   */
  function abortMidway(): { controller: AbortController; onProgress: (e: ProgressInfo) => void; fired: () => boolean } {
    const controller = new AbortController();
    let fired = false;
    return {
      controller,
      fired: () => fired,
      onProgress: (e) => {
        if (e.percentage > 0 && e.percentage < 100 && !fired) {
          fired = true;
          controller.abort();
        }
      },
    };
  }

  for (const format of FORMATS) {
    it(`save (${format})`, async () => {
      const db = makeDb(6000, 32, 2);
      const p = new DatabasePersistence(db, { baseDir: dir, format, batchSize: 100 });
      const first = await p.save();
      const firstBytes = readFileSync(first);
      const filesBefore = listFiles(dir);
      db.insert({ id: 'new', vector: new Float32Array(32).fill(1) });
      const a = abortMidway();
      expect(await codeOf(p.save({ signal: a.controller.signal, onProgress: a.onProgress }))).toBe('ABORTED');
      expect(a.fired()).toBe(true);
      expect(listFiles(dir)).toEqual(filesBefore);
      expect(readFileSync(first).equals(firstBytes)).toBe(true);
      expect(db.hasChanges()).toBe(true); // the change is still unsaved
    });
  }

  it('snapshot, export and restore', async () => {
    const db = makeDb(6000, 32, 2);
    const p = new DatabasePersistence(db, { baseDir: dir, format: 'binary', compression: 'gzip', batchSize: 100 });
    const snap = await p.createSnapshot('base');
    const filesBefore = listFiles(dir);

    let a = abortMidway();
    expect(await codeOf(p.createSnapshot('x', undefined, { signal: a.controller.signal, onProgress: a.onProgress }))).toBe('ABORTED');
    expect(listFiles(dir)).toEqual(filesBefore);
    expect((await p.listSnapshots()).map((s) => s.id)).toEqual([snap.id]);

    a = abortMidway();
    const out = path.join(dir, 'out.json');
    expect(await codeOf(p.export({ path: out, format: 'json', signal: a.controller.signal, onProgress: a.onProgress }))).toBe('ABORTED');
    expect(existsSync(out)).toBe(false);
    expect(listFiles(dir)).toEqual(filesBefore);

    db.delete('id-100');
    const before = cloneDb(db);
    a = abortMidway();
    expect(await codeOf(p.restoreSnapshot(snap.id, { signal: a.controller.signal, onProgress: a.onProgress }))).toBe('ABORTED');
    expectSameDb(db, before);
    expect(listFiles(dir)).toEqual(filesBefore);
  });
});

describe('auto-save and shutdown', () => {
  it('saves only when something changed, never overlapping, and shutdown saves the rest', async () => {
    const db = makeDb(100);
    const saved: string[] = [];
    const p = new DatabasePersistence(db, { baseDir: dir, format: 'binary', onAutoSave: (f) => saved.push(f) });
    p.startAutoSave(20);
    await new Promise((r) => setTimeout(r, 120));
    expect(saved.length).toBe(1); // the initial content, once
    await new Promise((r) => setTimeout(r, 100));
    expect(saved.length).toBe(1); // nothing changed since
    db.insert({ id: 'late', vector: new Float32Array(16).fill(0.25) });
    p.stopAutoSave();
    await p.shutdown();
    const loaded = new VectorDB({ dimension: 16 });
    await new DatabasePersistence(loaded, { baseDir: dir }).load();
    expectSameDb(loaded, db);
    expect(await codeOf(p.save())).toBe('BUSY');
  });

  it('reports auto-save failures through the callback and keeps running', async () => {
    const db = makeDb(10);
    const errors: string[] = [];
    const blocker = path.join(dir, 'blocker');
    writeFileSync(blocker, 'a file where a folder should be');
    const p = new DatabasePersistence(db, {
      baseDir: dir,
      onAutoSaveError: (e) => errors.push(e.code),
    });
    await p.listSnapshots();
    // Saving into a path under a regular file fails on every attempt.
    const original = p.save.bind(p);
    p.save = (o = {}) => original({ ...o, path: path.join(blocker, 'db.json') });
    p.startAutoSave(15);
    await new Promise((r) => setTimeout(r, 150));
    p.stopAutoSave();
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(new Set(errors)).toEqual(new Set(['IO_ERROR']));
  });

  it("removes temp files of writers that died mid-write, never a live writer's, and never lists them", async () => {
    const snapDir = path.join(dir, 'snapshots');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(snapDir, { recursive: true });
    // 2^22 + 7 is above the largest pid Linux can hand out (2^22), so that writer is surely gone.
    const dead = path.join(snapDir, `.abc.meta.json.${2 ** 22 + 7}.0123abcd.vecsnap-tmp`);
    const live = path.join(dir, `.database.json.${process.pid}.89abcdef.vecsnap-tmp`);
    writeFileSync(dead, 'half a file');
    writeFileSync(live, 'being written');
    const p = new DatabasePersistence(makeDb(3), { baseDir: dir });
    expect(await p.listSnapshots()).toEqual([]);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(p.cleanedUp).toEqual([dead]);
  });

  it('the constructor is usable at once (no set-up race)', async () => {
    const db = makeDb(5);
    const p = new DatabasePersistence(db, { baseDir: path.join(dir, 'deep', 'new', 'folder') });
    const snap = await p.createSnapshot('immediately');
    expect((await p.listSnapshots())[0]!.id).toBe(snap.id);
  });
});
