import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareJsonFileTexts, type RecordedFile } from './compare-json-text.js';
import { compareDatasetFiles, type CompareContentOptions, type ContentDiff } from './compare.js';
import { writeDatasetFile } from './formats/dataset-io.js';
import { DatabasePersistence } from './persistence.js';
import { makeDb, rng, tempDir } from './test-helpers/fixtures.js';
import type { Compression, EntryChunk, Format, Metadata, ProgressInfo } from './types.js';

interface Entry {
  id: string;
  vector: Float32Array;
  metadata?: Metadata;
}

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('vecsnap-compare-text-')));
afterEach(() => cleanup());

const sha256Of = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

let files = 0;
async function write(
  entries: Entry[],
  { compression = 'none', dimension = 8, format = 'json' }: { compression?: Compression; dimension?: number; format?: Format } = {},
): Promise<RecordedFile> {
  const chunks: EntryChunk[] = [];
  for (let i = 0; i < entries.length; i += 37) {
    const part = entries.slice(i, i + 37);
    const vectors = new Float32Array(part.length * dimension);
    part.forEach((e, j) => vectors.set(e.vector, j * dimension));
    chunks.push({ ids: part.map((e) => e.id), vectors, metadata: part.map((e) => e.metadata) });
  }
  const file = path.join(dir, `f${files++}.${format}`);
  const written = await writeDatasetFile(file, {
    format,
    compression,
    header: { dimension, metric: 'cosine', count: entries.length, createdAt: 1 },
    chunks,
  });
  expect(written.sha256).toBe(sha256Of(file));
  return { file, sha256: written.sha256 };
}

/** Replaces the file's text by `edit(text)` and returns it with its new SHA-256. */
function rewrite(rec: RecordedFile, edit: (text: string) => string): RecordedFile {
  const before = readFileSync(rec.file, 'utf8');
  const after = edit(before);
  expect(after).not.toBe(before);
  writeFileSync(rec.file, after);
  return { file: rec.file, sha256: sha256Of(rec.file) };
}

function vec(rand: () => number, dimension: number): Float32Array {
  return Float32Array.from({ length: dimension }, () => rand() * 2 - 1);
}

function makeEntries(count: number, seed: number, dimension = 8): Entry[] {
  const rand = rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const vector = vec(rand, dimension);
    return i % 3 === 0 ? { id: `id-${i}`, vector } : { id: `id-${i}`, vector, metadata: { n: i, tag: i % 2 ? 'odd' : 'even' } };
  });
}

/** Entry i of `a` changed by `f` (ids in `which`). */
function mapIds(a: Entry[], which: number[], f: (e: Entry, i: number) => Entry): Entry[] {
  return a.map((e, i) => (which.includes(i) ? f(e, i) : e));
}

const bumped = (e: Entry): Entry => {
  const vector = Float32Array.from(e.vector);
  vector[1]! += 0.25;
  return { ...e, vector };
};

/** Text compare and ordinary compare agree, both ways round; returns the A → B diff. */
async function sameAsOrdinary(a: RecordedFile, b: RecordedFile, options: CompareContentOptions = {}): Promise<ContentDiff> {
  const ordinary = await compareDatasetFiles(a.file, b.file, options);
  expect(await compareJsonFileTexts(a, b, options)).toEqual(ordinary);
  expect(await compareJsonFileTexts(b, a, options)).toEqual(await compareDatasetFiles(b.file, a.file, options));
  return ordinary;
}

const base = makeEntries(300, 1);
const diffCases: [string, () => Entry[], Partial<ContentDiff>][] = [
  ['vectors changed', () => mapIds(base, [3, 100, 299], bumped), { changed: 3, vectorsChanged: 3, metadataChanged: 0, unchanged: 297 }],
  [
    'metadata changed',
    () => mapIds(base, [1, 2, 5], (e) => ({ ...e, metadata: { n: -1, tag: 'changed' } })),
    { changed: 3, vectorsChanged: 0, metadataChanged: 3 },
  ],
  [
    'vector and metadata changed',
    () => mapIds(base, [4, 7], (e) => ({ ...bumped(e), metadata: { other: true } })),
    { changed: 2, vectorsChanged: 2, metadataChanged: 2 },
  ],
  [
    'metadata added and removed',
    () => mapIds(base, [0, 1, 3], (e, i) => (i === 1 ? { id: e.id, vector: e.vector } : { ...e, metadata: { added: i } })),
    { changed: 3, vectorsChanged: 0, metadataChanged: 3 },
  ],
  [
    'entries added',
    () => [...base, ...makeEntries(5, 2).map((e) => ({ ...e, id: `new-${e.id}` }))],
    { added: 5, removed: 0, changed: 0, unchanged: 300 },
  ],
  ['entries removed', () => base.filter((_, i) => i % 50 !== 7), { added: 0, removed: 6, changed: 0, unchanged: 294 }],
  [
    'entries deleted and re-inserted at the end (out of order), one of them changed',
    () => [...base.filter((_, i) => i !== 10 && i !== 20 && i !== 150), base[20]!, bumped(base[10]!), { ...base[150]!, metadata: { moved: 'ü' } }],
    { added: 0, removed: 0, changed: 2, vectorsChanged: 1, metadataChanged: 1, unchanged: 298 },
  ],
  [
    'everything at once, samples trimmed',
    () => [
      ...mapIds(base.filter((_, i) => i % 40 !== 1), [2, 30, 31, 250], (e, i) => (i % 2 ? bumped(e) : { ...e, metadata: { i } })),
      ...makeEntries(9, 3).map((e) => ({ ...e, id: `x${e.id}` })),
    ],
    { added: 9, removed: 8, changed: 4 },
  ],
];

describe('compareJsonFileTexts gives the same diff as compareDatasetFiles', () => {
  for (const [name, makeB, expected] of diffCases) {
    it(name, async () => {
      const [a, b] = [await write(base), await write(makeB())];
      expect(await sameAsOrdinary(a, b)).toMatchObject(expected);
      await sameAsOrdinary(a, b, { sampleSize: 2 });
    });
  }

  it('ids that need JSON escapes and nested unicode metadata', async () => {
    const rand = rng(5);
    const ids = ['a"b\\c', 'ü', '🚀 rocket', 'tab\tnew\nline', '\u0001ctl', 'slash/</script>', '東京', 'plain'];
    const a = ids.map((id, i) => ({
      id,
      vector: vec(rand, 8),
      metadata: { i, deep: { list: [1, 'ß', { e: '🌍 "q"' }], none: null }, 'ключ': 'значение' },
    }));
    const b = [
      a[1]!,
      { ...a[0]!, metadata: { ...a[0]!.metadata, deep: { list: [1, 'ß', { e: '🌍 "Q"' }], none: null } } },
      bumped(a[2]!),
      ...a.slice(4, 7),
      a[3]!,
      { id: 'neu \\"ü\\"', vector: vec(rand, 8), metadata: { emoji: '👩‍👩‍👧' } },
    ];
    expect(await sameAsOrdinary(await write(a), await write(b))).toEqual({
      added: 1,
      removed: 1,
      changed: 2,
      unchanged: 5,
      vectorsChanged: 1,
      metadataChanged: 1,
      samples: { added: ['neu \\"ü\\"'], removed: ['plain'], changed: ['a"b\\c', '🚀 rocket'] },
    });
  });

  it('different dimensions: every shared entry is a changed vector', async () => {
    const a = makeEntries(40, 7, 8);
    const b = makeEntries(45, 7, 4);
    const diff = await sameAsOrdinary(await write(a), await write(b, { dimension: 4 }));
    expect(diff).toMatchObject({ added: 5, changed: 40, vectorsChanged: 40, metadataChanged: 0, unchanged: 0 });
  });

  it('empty files', async () => {
    const empty = await write([]);
    expect(await sameAsOrdinary(empty, await write([]))).toMatchObject({ added: 0, removed: 0, changed: 0, unchanged: 0 });
    expect(await sameAsOrdinary(empty, await write(base))).toMatchObject({ added: 300, removed: 0, unchanged: 0 });
  });

  for (const compression of ['gzip', 'brotli'] as const) {
    it(`${compression}-compressed files (and one compressed against a plain one)`, async () => {
      const b = mapIds(base.slice(5), [0, 20], bumped);
      const diff = await sameAsOrdinary(await write(base, { compression }), await write(b, { compression }));
      expect(diff).toMatchObject({ removed: 5, changed: 2, vectorsChanged: 2, unchanged: 293 });
      await sameAsOrdinary(await write(base), await write(b, { compression }));
    });
  }

  it('files spanning several read buffers, with entries moved across them', async () => {
    const a = makeEntries(40_000, 9, 16);
    const stay = a.filter((_, i) => i !== 0 && (i < 100 || i >= 150));
    const fresh = makeEntries(50, 10, 16).map((e) => ({ ...e, id: `n${e.id}` }));
    const b = [...mapIds(stay, [5, 20_000, 39_000], bumped), a[0]!, ...a.slice(100, 150), ...fresh];
    const rec = await write(a, { dimension: 16 });
    expect(readFileSync(rec.file).length).toBeGreaterThan(3 << 20);
    const diff = await sameAsOrdinary(rec, await write(b, { dimension: 16 }));
    expect(diff).toMatchObject({ added: 50, removed: 0, changed: 3, vectorsChanged: 3 });
  });
});

describe('compareJsonFileTexts: equal content in different text', () => {
  /** Component k (1 ≤ k < dimension − 1) of entry `id` re-spelled as the double's shortest text of its float32. */
  function respell(text: string, id: string, k: number): string {
    const start = text.indexOf(`{"id":"${id}","vector":[`);
    const line = text.slice(start, text.indexOf('\n', start));
    const parts = line.split(','); // {"id":"…"  "vector":[c0  c1  c2 …
    const old = parts[1 + k]!;
    const value = Math.fround(Number(old));
    const newText = String(value);
    expect(newText).not.toBe(old);
    expect(newText.length).toBeGreaterThan(old.length);
    expect(Math.fround(Number(newText))).toBe(value);
    parts[1 + k] = newText;
    return text.replace(line, parts.join(','));
  }

  it('a component written as a longer decimal of the same float32 counts as unchanged (in step and moved)', async () => {
    expect(Math.fround(Number(String(base[7]!.vector[2]!)))).toBe(base[7]!.vector[2]!);
    const a = await write(base);
    // id-9 (no metadata) and id-8 (metadata) deleted and re-inserted at the end: compared out of step.
    const b = await write([...mapIds(base, [50], bumped).filter((e) => e.id !== 'id-9' && e.id !== 'id-8'), base[9]!, base[8]!]);
    const edited = rewrite(b, (text) => respell(respell(respell(text, 'id-7', 2), 'id-9', 1), 'id-8', 6));
    // The content checksum is over float bits, so the ordinary compare still verifies the file.
    const ordinary = await compareDatasetFiles(a.file, edited.file);
    expect(ordinary).toMatchObject({ changed: 1, vectorsChanged: 1, unchanged: 299, samples: { changed: ['id-50'] } });
    expect(await compareJsonFileTexts(a, edited)).toEqual(ordinary);
    expect(await compareJsonFileTexts(edited, a)).toEqual(await compareDatasetFiles(edited.file, a.file));
  });

  it('a re-spelled component before a changed one, and -0 against 0, still count as changed', async () => {
    const a = await write(base);
    const later = (e: Entry): Entry => {
      const vector = Float32Array.from(e.vector);
      vector[5] = vector[5]! + 1;
      return { ...e, vector };
    };
    const signed = (e: Entry): Entry => {
      const vector = Float32Array.from(e.vector);
      vector[0] = 0;
      return { ...e, vector };
    };
    const aZero = await write(mapIds(base, [12], signed));
    const b = await write(mapIds(mapIds(base, [7], later), [12], (e) => ({ ...signed(e), vector: signed(e).vector.map((x, j) => (j === 0 ? -0 : x)) })));
    // id-7: component 2 re-spelled (same value, first text difference), component 5 really changed.
    const edited = rewrite(b, (text) => respell(text, 'id-7', 2));
    for (const [x, y] of [[a, edited], [edited, a], [aZero, edited]] as const) {
      expect(await compareJsonFileTexts(x, y)).toEqual(await compareDatasetFiles(x.file, y.file));
    }
    expect(await compareJsonFileTexts(aZero, edited)).toMatchObject({ changed: 2, vectorsChanged: 2, samples: { changed: ['id-7', 'id-12'] } });
  });

  it('metadata written as other text of the same value counts as unchanged', async () => {
    const entries: Entry[] = [
      { id: 'x', vector: new Float32Array(8).fill(0.5), metadata: { a: 1 } },
      { id: 'y', vector: new Float32Array(8).fill(1.5), metadata: { a: 1, b: 'c' } },
      { id: 'z', vector: new Float32Array(8).fill(2.5), metadata: { a: 1 } },
    ];
    const a = await write(entries);
    const b = rewrite(await write(entries), (text) =>
      text
        .replace('"vector":[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5],"metadata":{"a":1}', '"vector":[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5],"metadata":{"a":1.0}')
        .replace('"metadata":{"a":1,"b":"c"}', '"metadata":{ "a" : 1e0 ,\t"b":"\\u0063" }'),
    );
    const ordinary = await compareDatasetFiles(a.file, b.file); // the content checksum still matches
    expect(ordinary).toMatchObject({ changed: 0, unchanged: 3 });
    expect(await compareJsonFileTexts(a, b)).toEqual(ordinary);
    expect(await compareJsonFileTexts(b, a)).toEqual(await compareDatasetFiles(b.file, a.file));
  });
});

/** The file with one digit of entry `id`'s vector changed to another digit (layout unchanged). */
function flipDigit(file: string, id: string): void {
  const bytes = readFileSync(file);
  const at = bytes.indexOf(`{"id":${JSON.stringify(id)},"vector":[`) + `{"id":${JSON.stringify(id)},"vector":[`.length;
  let i = at;
  while (bytes[i]! < 0x31 || bytes[i]! > 0x39) i++; // a digit 1–9 (not a leading 0)
  bytes[i] = bytes[i] === 0x39 ? 0x38 : bytes[i]! + 1;
  writeFileSync(file, bytes);
}

describe('compareJsonFileTexts: integrity', () => {
  it('leaves a changed file B, a wrong or missing sha256 for A to the ordinary compare (null); verifyChecksum: false compares', async () => {
    const a = await write(base);
    const b = await write(base);
    flipDigit(b.file, 'id-42');
    expect(await compareJsonFileTexts(a, b)).toBeNull();
    expect(await compareJsonFileTexts(b, a)).toBeNull();
    // The ordinary compare finds the damage through the content checksum.
    await expect(compareDatasetFiles(a.file, b.file)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    const unchecked = await compareJsonFileTexts(a, b, { verifyChecksum: false });
    expect(unchecked).toEqual(await compareDatasetFiles(a.file, b.file, { verifyChecksum: false }));
    expect(unchecked).toMatchObject({ changed: 1, vectorsChanged: 1, samples: { changed: ['id-42'] } });

    const wrongA = { file: a.file, sha256: createHash('sha256').update('other').digest('hex') };
    const fine = await write(mapIds(base, [9], bumped));
    expect(await compareJsonFileTexts(wrongA, fine)).toBeNull();
    // Snapshots of the original module may have no recorded checksum: nothing to check against.
    expect(await compareJsonFileTexts({ file: a.file, sha256: '' }, fine)).toBeNull();
    expect(await compareJsonFileTexts(wrongA, fine, { verifyChecksum: false })).toMatchObject({ changed: 1, unchanged: 299 });
    const missing = { file: path.join(dir, 'missing.json'), sha256: a.sha256 };
    await expect(compareJsonFileTexts(a, missing)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('leaves a compressed file whose stored bytes changed but whose content did not to the ordinary compare', async () => {
    const a = await write(base, { compression: 'gzip' });
    const b = await write(mapIds(base, [1], bumped), { compression: 'gzip' });
    const bytes = readFileSync(b.file);
    bytes[4]! ^= 0x01; // the gzip header's MTIME: zlib ignores it, the content is the same
    writeFileSync(b.file, bytes);
    expect(await compareJsonFileTexts(a, b)).toBeNull();
    expect(await compareJsonFileTexts(a, b, { verifyChecksum: false })).toEqual(await compareDatasetFiles(a.file, b.file));
  });
});

describe('compareJsonFileTexts falls back (null)', () => {
  it('for a legacy JSON file of the original module', async () => {
    const legacyFile = path.join(dir, 'legacy.json');
    const state = {
      version: '1.0.0',
      options: { dimension: 8, metric: 'cosine' },
      stats: { count: base.length, dimension: 8, metric: 'cosine' },
      vectors: base.map((e) => ({ id: e.id, vector: Array.from(e.vector), ...(e.metadata ? { metadata: e.metadata } : {}) })),
      timestamp: 1_690_000_000_000,
    };
    writeFileSync(legacyFile, JSON.stringify(state));
    const legacy = { file: legacyFile, sha256: sha256Of(legacyFile) };
    const ours = await write(mapIds(base, [0], bumped));
    expect(await compareJsonFileTexts(legacy, ours)).toBeNull();
    expect(await compareJsonFileTexts(ours, legacy)).toBeNull();
    // …and the ordinary compare answers instead.
    expect(await compareDatasetFiles(legacyFile, ours.file)).toMatchObject({ changed: 1, unchanged: 299 });
  });

  it('for a VecSnap JSON file re-written pretty-printed', async () => {
    const a = await write(base);
    const pretty = rewrite(await write(base), (text) => JSON.stringify(JSON.parse(text), null, 2));
    expect(await compareJsonFileTexts(a, pretty)).toBeNull();
    expect(await compareJsonFileTexts(pretty, a)).toBeNull();
    expect(await compareDatasetFiles(a.file, pretty.file)).toMatchObject({ changed: 0, unchanged: 300 });
  });

  it('for metadata that is not an object where the texts differ (the ordinary reader refuses it)', async () => {
    const a = await write(base);
    const odd = rewrite(await write(base), (text) => text.replace('"metadata":{"n":1,"tag":"odd"}', '"metadata":[1]'));
    expect(await compareJsonFileTexts(a, odd)).toBeNull();
    await expect(compareDatasetFiles(a.file, odd.file, { verifyChecksum: false })).rejects.toMatchObject({ code: 'INVALID_METADATA' });
  });

  it('for binary and SQLite files', async () => {
    const json = await write(base);
    for (const format of ['binary', 'sqlite'] as const) {
      const other = await write(base, { format });
      expect(await compareJsonFileTexts(json, other), format).toBeNull();
      expect(await compareJsonFileTexts(other, json), format).toBeNull();
    }
  });
});

describe('compareJsonFileTexts: abort and progress', () => {
  const fsResources = (): number =>
    process.getActiveResourcesInfo().filter((r) => r === 'FSReqCallback' || r === 'FileHandle' || r === 'FSReqPromise').length;

  it('rejects with ABORTED for an already-aborted signal and leaves no file handle open', async () => {
    const a = await write(makeEntries(5000, 11));
    const b = await write(makeEntries(5000, 12));
    const baseline = fsResources();
    const controller = new AbortController();
    controller.abort();
    await expect(compareJsonFileTexts(a, b, { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    for (let i = 0; i < 100 && fsResources() > baseline; i++) await new Promise((r) => setTimeout(r, 10));
    expect(fsResources()).toBe(baseline);
    // Aborted while reading (from the first progress report), too.
    const later = new AbortController();
    await expect(compareJsonFileTexts(a, b, { signal: later.signal, onProgress: () => later.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(later.signal.aborted).toBe(true);
  });

  it('reports progress ending at 100%', async () => {
    const calls: ProgressInfo[] = [];
    const diff = await compareJsonFileTexts(await write(base), await write(mapIds(base, [3], bumped)), { onProgress: (p) => calls.push(p) });
    expect(diff).toMatchObject({ changed: 1 });
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.at(-1)).toMatchObject({ operation: 'compare', percentage: 100 });
    const percentages = calls.map((c) => c.percentage);
    expect(percentages).toEqual([...percentages].sort((x, y) => x - y));
  });
});

describe('compareSnapshots of two JSON snapshots', () => {
  for (const compression of ['none', 'gzip'] as const) {
    it(`gives the ordinary diff, and refuses a damaged snapshot (compression ${compression})`, async () => {
      const db = makeDb(400, 16, 3);
      const p = new DatabasePersistence(db, { baseDir: dir, format: 'json', compression });
      const first = await p.createSnapshot('first');
      db.delete('id-10');
      db.delete('id-200');
      const moved = db.get('id-20')!;
      db.delete('id-20');
      db.insert(moved);
      db.insert({ id: 'id-100', vector: new Float32Array(16).fill(0.25), metadata: { changed: 'ü' } });
      db.insert({ id: 'fresh "one"', vector: new Float32Array(16).fill(-1) });
      const second = await p.createSnapshot('second');
      const fileOf = (s: { id: string; file?: string }): string =>
        path.join(dir, 'snapshots', `${s.id}.json${compression === 'gzip' ? '.gz' : ''}`);
      expect(fileOf(first)).toBe(path.join(dir, 'snapshots', first.file!));

      const ordinary = await compareDatasetFiles(fileOf(first), fileOf(second));
      expect(ordinary).toMatchObject({ added: 1, removed: 2, changed: 1, vectorsChanged: 1, samples: { changed: ['id-100'] } });
      const comparison = await p.compareSnapshots(first.id, second.id);
      expect(comparison.sameContent).toBe(false);
      expect(comparison.diff).toEqual(ordinary);
      expect((await p.compareSnapshots(second.id, first.id)).diff).toEqual(await compareDatasetFiles(fileOf(second), fileOf(first)));

      if (compression === 'gzip') {
        // Same content, other bytes (gzip MTIME): the ordinary compare answers, as before this path.
        const bytes = readFileSync(fileOf(second));
        bytes[4]! ^= 0x01;
        writeFileSync(fileOf(second), bytes);
        // Found only after reading both files: the ordinary compare's progress carries on from there.
        const calls: ProgressInfo[] = [];
        expect((await p.compareSnapshots(first.id, second.id, { onProgress: (c) => calls.push(c) })).diff).toEqual(ordinary);
        const percentages = calls.map((c) => c.percentage);
        expect(percentages).toEqual([...percentages].sort((x, y) => x - y));
        const bothFiles = readFileSync(fileOf(first)).length + bytes.length;
        expect(calls.at(-1)).toMatchObject({ percentage: 100, current: 2 * bothFiles, total: 2 * bothFiles });
        // A changed gzip member fails zlib's own CRC or the content checksum either way.
        bytes[bytes.length - 9]! ^= 0x01;
        writeFileSync(fileOf(second), bytes);
        await expect(p.compareSnapshots(first.id, second.id)).rejects.toMatchObject({ code: expect.stringMatching(/^(CHECKSUM_MISMATCH|CORRUPT_FILE)$/) });
      } else {
        flipDigit(fileOf(second), 'id-300');
        await expect(p.compareSnapshots(first.id, second.id)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
      }
      await p.shutdown();
    });
  }
});

