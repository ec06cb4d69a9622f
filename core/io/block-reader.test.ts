import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBlockReader } from './block-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'vecsnap-block-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileOf(size: number): { file: string; bytes: Buffer } {
  const bytes = randomBytes(size);
  const file = join(dir, `f${size}`);
  writeFileSync(file, bytes);
  return { file, bytes };
}

describe('openBlockReader', () => {
  it('delivers the file in order, reading into the blocks given back', async () => {
    const block = 64 * 1024;
    const { file, bytes } = fileOf(20 * block + 123);
    const reader = openBlockReader(file, block);
    const copies: Buffer[] = [];
    const memories = new Set<ArrayBufferLike>();
    for await (const piece of reader.stream as AsyncIterable<Buffer>) {
      copies.push(Buffer.from(piece));
      memories.add(piece.buffer);
      reader.release(piece);
    }
    expect(Buffer.concat(copies).equals(bytes)).toBe(true);
    expect(copies.length).toBe(21);
    // Only the blocks the stream reads ahead are ever new: the rest is the same memory again.
    expect(memories.size).toBeLessThanOrEqual(4);
  });

  it('never reads into a block that was not given back, and ignores anything else given', async () => {
    const block = 16 * 1024;
    const { file, bytes } = fileOf(12 * block);
    const reader = openBlockReader(file, block);
    const held: Buffer[] = [];
    let n = 0;
    for await (const piece of reader.stream as AsyncIterable<Buffer>) {
      // Every other piece is kept as delivered; foreign and repeated releases must change nothing.
      if (n++ % 2 === 0) held.push(piece);
      else {
        reader.release(piece);
        reader.release(piece);
      }
      reader.release(Buffer.alloc(block));
      reader.release(new Uint8Array(new SharedArrayBuffer(block)));
    }
    held.forEach((piece, i) => expect(piece.equals(bytes.subarray(2 * i * block, (2 * i + 1) * block))).toBe(true));
    expect(new Set(held.map((p) => p.buffer)).size).toBe(held.length);
  });

  it('fails its stream for a file that cannot be opened', async () => {
    const reader = openBlockReader(join(dir, 'absent'));
    const err = await (async () => {
      for await (const _ of reader.stream) void _;
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENOENT' });
  });

  it('reads an empty file as an empty stream', async () => {
    const { file } = fileOf(0);
    const pieces: Buffer[] = [];
    for await (const piece of openBlockReader(file).stream as AsyncIterable<Buffer>) pieces.push(piece);
    expect(pieces).toEqual([]);
  });
});
