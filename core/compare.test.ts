import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareDatasetFiles, emptyContentDiff, type ContentDiff } from './compare.js';
import { writeDatasetFile } from './formats/dataset-io.js';
import { rng, tempDir, toChunks } from './test-helpers/fixtures.js';
import type { Compression, Format, Metadata } from './types.js';

const { dir, cleanup } = tempDir('vecsnap-compare-');
afterAll(cleanup);

interface Entry {
  id: string;
  vector: Float32Array;
  metadata?: Metadata;
}

let files = 0;
async function write(entries: Entry[], format: Format, compression: Compression = 'none', per = 37, dimension = 8): Promise<string> {
  const chunks = toChunks(entries, dimension, per);
  const file = path.join(dir, `f${files++}.${format}`);
  await writeDatasetFile(file, {
    format,
    compression,
    header: { dimension, metric: 'cosine', count: entries.length, createdAt: 1 },
    chunks,
  });
  return file;
}

function makeEntries(count: number, seed: number, dimension = 8): Entry[] {
  const rand = rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const vector = new Float32Array(dimension);
    for (let j = 0; j < dimension; j++) vector[j] = rand() * 2 - 1;
    return i % 3 === 0 ? { id: `id-${i}`, vector } : { id: `id-${i}`, vector, metadata: { n: i, tag: i % 2 ? 'odd' : 'even' } };
  });
}

/** The diff by definition: a map of A, B looked up in it. Samples in file order (changed: B's). */
function reference(a: Entry[], b: Entry[], sampleSize: number): ContentDiff {
  const inA = new Map(a.map((e) => [e.id, e]));
  const inB = new Set(b.map((e) => e.id));
  const diff: ContentDiff = emptyContentDiff();
  for (const e of b) {
    const old = inA.get(e.id);
    if (!old) {
      diff.added++;
      if (diff.samples.added.length < sampleSize) diff.samples.added.push(e.id);
      continue;
    }
    const vec = Buffer.compare(Buffer.from(old.vector.buffer, old.vector.byteOffset, old.vector.byteLength), Buffer.from(e.vector.buffer, e.vector.byteOffset, e.vector.byteLength)) !== 0;
    const meta = JSON.stringify(old.metadata) !== JSON.stringify(e.metadata);
    if (vec || meta) {
      diff.changed++;
      if (vec) diff.vectorsChanged++;
      if (meta) diff.metadataChanged++;
      if (diff.samples.changed.length < sampleSize) diff.samples.changed.push(e.id);
    } else diff.unchanged++;
  }
  for (const e of a) {
    if (inB.has(e.id)) continue;
    diff.removed++;
    if (diff.samples.removed.length < sampleSize) diff.samples.removed.push(e.id);
  }
  return diff;
}

/** B made from A the way a database evolves — updates in place, deletes, appends — plus, when asked, reordering. */
function evolve(a: Entry[], seed: number, shuffle: 'none' | 'blocks' | 'reverse'): Entry[] {
  const rand = rng(seed);
  let b: Entry[] = [];
  for (const e of a) {
    const r = rand();
    if (r < 0.05) continue; // deleted
    if (r < 0.1) {
      const vector = Float32Array.from(e.vector);
      vector[Math.floor(rand() * vector.length)]! += 1;
      b.push({ ...e, vector });
    } else if (r < 0.13) {
      b.push({ id: e.id, vector: e.vector, metadata: { changed: true } });
    } else b.push(e);
  }
  for (let i = 0; i < a.length / 20; i++) b.push({ id: `new-${seed}-${i}`, vector: new Float32Array(8).fill(i), metadata: { i } });
  if (shuffle === 'reverse') b.reverse();
  if (shuffle === 'blocks') {
    const blocks: Entry[][] = [];
    for (let i = 0; i < b.length; i += 50) blocks.push(b.slice(i, i + 50));
    for (let i = blocks.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [blocks[i], blocks[j]] = [blocks[j]!, blocks[i]!];
    }
    b = blocks.flat();
  }
  return b;
}

describe('compareDatasetFiles', () => {
  it('matches the by-definition diff for in-step, block-shuffled and reversed files, in every format pair', async () => {
    const a = makeEntries(1000, 3);
    const cases: [Format, Format, 'none' | 'blocks' | 'reverse'][] = [
      ['binary', 'binary', 'none'],
      ['binary', 'json', 'blocks'],
      ['json', 'sqlite', 'reverse'],
      ['sqlite', 'binary', 'none'],
      ['sqlite', 'sqlite', 'blocks'],
    ];
    let seed = 10;
    for (const [fa, fb, shuffle] of cases) {
      const b = evolve(a, seed++, shuffle);
      const [fileA, fileB] = [await write(a, fa), await write(b, fb, 'none', 53)];
      const want = reference(a, b, 7);
      expect(await compareDatasetFiles(fileA, fileB, { sampleSize: 7 }), `${fa} → ${fb}, ${shuffle}`).toEqual(want);
      // And the other way round: added and removed swap, samples follow the other file's order.
      expect(await compareDatasetFiles(fileB, fileA, { sampleSize: 7 }), `${fb} → ${fa}, ${shuffle}`).toEqual(reference(b, a, 7));
    }
  });

  it('reports identical files as all unchanged, and disjoint ones as all added and removed', async () => {
    const a = makeEntries(300, 4);
    const same = await compareDatasetFiles(await write(a, 'binary', 'gzip'), await write(a, 'json', 'none', 300));
    expect(same).toMatchObject({ added: 0, removed: 0, changed: 0, unchanged: 300 });
    const other = makeEntries(200, 5).map((e) => ({ ...e, id: `x-${e.id}` }));
    const disjoint = await compareDatasetFiles(await write(a, 'binary'), await write(other, 'binary'), { sampleSize: 3 });
    expect(disjoint).toEqual({
      added: 200,
      removed: 300,
      changed: 0,
      unchanged: 0,
      vectorsChanged: 0,
      metadataChanged: 0,
      samples: { added: ['x-id-0', 'x-id-1', 'x-id-2'], removed: ['id-0', 'id-1', 'id-2'], changed: [] },
    });
  });

  it('tells -0 from +0 (bit for bit), and metadata by its JSON text', async () => {
    const a: Entry[] = [
      { id: 'zero', vector: new Float32Array(8) },
      { id: 'meta', vector: new Float32Array(8).fill(1), metadata: { a: 1, b: 2 } },
      { id: 'same', vector: new Float32Array(8).fill(2), metadata: { a: 1 } },
    ];
    const b: Entry[] = [
      { id: 'zero', vector: Float32Array.from([-0, 0, 0, 0, 0, 0, 0, 0]) },
      { id: 'meta', vector: new Float32Array(8).fill(1), metadata: { b: 2, a: 1 } },
      { id: 'same', vector: new Float32Array(8).fill(2), metadata: { a: 1 } },
    ];
    const diff = await compareDatasetFiles(await write(a, 'binary'), await write(b, 'json'));
    expect(diff).toMatchObject({ changed: 2, vectorsChanged: 1, metadataChanged: 1, unchanged: 1, samples: { changed: ['zero', 'meta'] } });
  });

  it('handles one empty side', async () => {
    const a = makeEntries(50, 6);
    const empty = await write([], 'binary');
    expect(await compareDatasetFiles(empty, await write(a, 'sqlite'))).toMatchObject({ added: 50, removed: 0, unchanged: 0 });
    expect(await compareDatasetFiles(await write(a, 'json'), empty)).toMatchObject({ added: 0, removed: 50, unchanged: 0 });
  });

  it('counts every shared entry as a changed vector when the dimensions differ', async () => {
    const a = makeEntries(40, 7, 8);
    const b = makeEntries(40, 7, 4);
    const diff = await compareDatasetFiles(await write(a, 'binary'), await write(b, 'binary', 'none', 37, 4));
    expect(diff).toMatchObject({ changed: 40, vectorsChanged: 40, metadataChanged: 0, unchanged: 0 });
  });

  it('fails with the damaged file’s error code and leaves both files as they were', async () => {
    const a = makeEntries(500, 8);
    const fileA = await write(a, 'binary');
    const fileB = await write(evolve(a, 9, 'none'), 'binary');
    const bytes = readFileSync(fileB);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(fileB, bytes);
    const before = readFileSync(fileA);
    await expect(compareDatasetFiles(fileA, fileB)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    await expect(compareDatasetFiles(fileB, fileA)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect(readFileSync(fileA).equals(before)).toBe(true);
    await expect(compareDatasetFiles(fileA, path.join(dir, 'missing.binary'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('stops with ABORTED when the signal fires', async () => {
    const a = makeEntries(2000, 11);
    const controller = new AbortController();
    controller.abort();
    await expect(compareDatasetFiles(await write(a, 'binary'), await write(a, 'json'), { signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });
});
