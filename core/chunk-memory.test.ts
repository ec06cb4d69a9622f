import { describe, expect, it } from 'vitest';
import { ChunkMemory } from './chunk-memory.js';
import { IN_PLACE_MIN_BYTES, queuedReads } from './io/shared-bytes.js';
import { makeDb } from './test-helpers/fixtures.js';

describe('ChunkMemory', () => {
  it('reuses handed-back memory only once its test says it is free, and only for the same length', () => {
    const memory = new ChunkMemory();
    const a = memory.take(8);
    let free = false;
    memory.giveBack(a)(() => free);
    const b = memory.take(8);
    expect(b).not.toBe(a); // still in use
    memory.giveBack(b)(() => true);
    expect(memory.take(4)).not.toBe(b); // another length
    expect(memory.take(8)).toBe(b);
    free = true;
    expect(memory.take(8)).toBe(a);
    expect(memory.take(8)).not.toBe(a); // taken once, not twice
  });

  it('takes a second hand-back of the same chunk as a no-op, and holds at most `limit` arrays', () => {
    const memory = new ChunkMemory(2);
    const a = memory.take(8);
    const recycle = memory.giveBack(a);
    recycle(() => true);
    recycle(() => true);
    expect(memory.take(8)).toBe(a);
    expect(memory.take(8)).not.toBe(a);

    const held = [memory.take(8), memory.take(8), memory.take(8)];
    for (const h of held) memory.giveBack(h)(() => true);
    const again = [memory.take(8), memory.take(8), memory.take(8)];
    expect(again[0]).toBe(held[0]);
    expect(again[1]).toBe(held[1]);
    expect(held).not.toContain(again[2]);
  });

  it('when full, lets memory of another length give way to a new hand-back', () => {
    const memory = new ChunkMemory(2);
    const small = memory.take(4);
    const big = [memory.take(8), memory.take(8)];
    memory.giveBack(small)(() => true);
    memory.giveBack(big[0]!)(() => false);
    memory.giveBack(big[1]!)(() => true); // full: the 4-length array gives way
    expect(memory.take(4)).not.toBe(small);
    expect(memory.take(8)).toBe(big[1]);
    const third = memory.take(8); // new: big[0] is not free
    memory.giveBack(third)(() => true);
    const fourth = new Float32Array(8);
    memory.giveBack(fourth)(() => true); // full, all of one length: dropped
    expect(memory.take(8)).toBe(third);
    expect(memory.take(8)).not.toBe(fourth);
  });

  it('hands out memory the hashing thread reads in place from 64 KiB up, and refills none it has yet to read', () => {
    const memory = new ChunkMemory();
    const length = IN_PLACE_MIN_BYTES / 4;
    expect(memory.take(length - 1).buffer).toBeInstanceOf(ArrayBuffer);
    const a = memory.take(length);
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    memory.giveBack(a)(() => true);
    const reads = queuedReads(a)!;
    Atomics.add(reads, 0, 1); // as an update queued on the hashing thread does
    expect(memory.take(length)).not.toBe(a);
    Atomics.sub(reads, 0, 1);
    expect(memory.take(length)).toBe(a);
  });
});

describe('VectorDB.readChunks with recycling', () => {
  it('refills handed-back memory with the next chunk and every chunk holds its own entries', () => {
    const db = makeDb(1000, 8, 5);
    const expected = [...db.readChunks(64)].map((c) => ({ ids: c.ids, vectors: Float32Array.from(c.vectors) }));
    const seen = new Set<ArrayBufferLike>();
    let chunks = 0;
    for (const chunk of db.readChunks(64, { recycle: true })) {
      expect(chunk.ids).toEqual(expected[chunks]!.ids);
      expect(Buffer.from(chunk.vectors.buffer, chunk.vectors.byteOffset, chunk.vectors.byteLength)).toEqual(
        Buffer.from(expected[chunks]!.vectors.buffer),
      );
      seen.add(chunk.vectors.buffer);
      chunk.recycle?.(() => true);
      chunks++;
    }
    expect(chunks).toBe(16);
    // 15 full chunks share one array; the last, shorter one has its own.
    expect(seen.size).toBe(2);
  });

  it('never refills memory a consumer kept or has not freed yet', () => {
    const db = makeDb(300, 4, 9);
    const kept: Float32Array[] = [];
    const copies: Float32Array[] = [];
    for (const chunk of db.readChunks(10, { recycle: true })) {
      kept.push(chunk.vectors);
      copies.push(Float32Array.from(chunk.vectors));
      chunk.recycle?.(() => false);
    }
    for (const chunk of db.readChunks(10, { recycle: true })) {
      kept.push(chunk.vectors);
      copies.push(Float32Array.from(chunk.vectors));
    }
    expect(new Set(kept.map((v) => v.buffer)).size).toBe(kept.length);
    kept.forEach((v, i) => expect(v).toEqual(copies[i]));
  });

  it('hands out plain arrays of their own, with nothing to hand back, unless asked to recycle', () => {
    const db = makeDb(2000, 64, 6); // chunks of 256 KiB: shared memory when recycling
    for (const chunk of db.readChunks(1000)) {
      expect(chunk.recycle).toBeUndefined();
      expect(chunk.vectors.buffer).toBeInstanceOf(ArrayBuffer);
      expect(chunk.vectors.buffer.byteLength).toBe(chunk.vectors.byteLength);
    }
    for (const chunk of db.readChunks(1000, { recycle: true })) {
      expect(chunk.recycle).toBeTypeOf('function');
      expect(chunk.vectors.buffer).toBeInstanceOf(SharedArrayBuffer);
    }
  });

  it('gives a chunk shortened by deleted entries an array of its own length', () => {
    const db = makeDb(100, 4, 2);
    for (let i = 80; i < 90; i++) db.delete(`id-${i}`);
    const chunks = [...db.readChunks(25, { recycle: true })];
    expect(chunks.map((c) => [c.ids.length, c.vectors.length, c.vectors.buffer.byteLength])).toEqual([
      [25, 100, 400],
      [25, 100, 400],
      [25, 100, 400],
      [15, 60, 240],
    ]);
    expect(chunks[3]!.recycle).toBeUndefined();
    expect(chunks[3]!.ids.at(-1)).toBe('id-99');
    expect(chunks[3]!.vectors.subarray(56)).toEqual(db.get('id-99')!.vector);
  });
});

describe('VectorDB.readChunksFor with recycling', () => {
  const bytesOf = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

  it('keeps handed-back memory for the next call, reuses it only once free, and yields each entry once', () => {
    const db = makeDb(500, 8, 3);
    const ask = ['id-40', 'id-7', 'gone', 'id-7', 'id-300', 'id-41'];
    const plain = [...db.readChunksFor(ask, 100)];
    expect(plain.map((c) => c.ids)).toEqual([['id-7', 'id-40', 'id-41', 'id-300']]);
    expect(plain[0]!.recycle).toBeUndefined();

    const [first] = [...db.readChunksFor(ask, 100, { recycle: true })];
    expect(first!.ids).toEqual(plain[0]!.ids);
    expect(first!.metadata).toEqual(plain[0]!.metadata);
    expect(bytesOf(first!.vectors)).toEqual(bytesOf(plain[0]!.vectors));
    // Four entries: a view of the start of an array sized for four (a power of two).
    expect(first!.vectors.length).toBe(32);
    expect(first!.vectors.buffer.byteLength).toBeGreaterThanOrEqual(32 * 4);
    let free = false;
    first!.recycle!(() => free);

    // Three entries share the four-entry size, but the memory is not free yet.
    const [second] = [...db.readChunksFor(['id-11', 'id-12', 'id-13'], 100, { recycle: true })];
    expect(second!.vectors.buffer).not.toBe(first!.vectors.buffer);
    second!.recycle!(() => false);
    free = true;
    const [third] = [...db.readChunksFor(['id-19', 'id-11', 'id-15'], 100, { recycle: true })];
    expect(third!.vectors.buffer).toBe(first!.vectors.buffer);
    expect(third!.ids).toEqual(['id-11', 'id-15', 'id-19']);
    expect(bytesOf(third!.vectors)).toEqual(Buffer.concat(['id-11', 'id-15', 'id-19'].map((id) => bytesOf(db.get(id)!.vector))));
  });

  it('splits into chunks of the chunk size, every chunk with its own entries', () => {
    const db = makeDb(300, 4, 5);
    const ask = Array.from({ length: 250 }, (_, i) => `id-${6 + ((i * 7) % 293)}`); // past the tricky ids
    const chunks: { ids: string[]; bytes: Buffer }[] = [];
    for (const chunk of db.readChunksFor(ask, 64, { recycle: true })) {
      chunks.push({ ids: chunk.ids, bytes: Buffer.from(bytesOf(chunk.vectors)) });
      chunk.recycle!(() => true);
    }
    expect(chunks.map((c) => c.ids.length)).toEqual([64, 64, 64, 58]);
    const ids = chunks.flatMap((c) => c.ids);
    expect(new Set(ids).size).toBe(250);
    expect(ids).toEqual([...ids].sort((a, b) => Number(a.slice(3)) - Number(b.slice(3))));
    for (const c of chunks) expect(c.bytes).toEqual(Buffer.concat(c.ids.map((id) => bytesOf(db.get(id)!.vector))));
  });
});
