import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

  it('never reads into a block that was not given back, nor into anything else given', async () => {
    const block = 16 * 1024;
    const { file, bytes } = fileOf(12 * block);
    const reader = openBlockReader(file, block);
    const held: Buffer[] = [];
    const foreign = Buffer.alloc(block, 0xa5);
    let n = 0;
    for await (const piece of reader.stream as AsyncIterable<Buffer>) {
      // Every other piece is kept as delivered; the rest are given back twice, and memory the
      // reader did not deliver (other memory, a view of a piece) is given too.
      if (n++ % 2 === 0) {
        held.push(piece);
        reader.release(piece.subarray(0));
      } else {
        reader.release(piece);
        reader.release(piece);
      }
      reader.release(foreign);
      reader.release(new Uint8Array(new SharedArrayBuffer(block)));
    }
    held.forEach((piece, i) => expect(piece.equals(bytes.subarray(2 * i * block, (2 * i + 1) * block))).toBe(true));
    expect(new Set(held.map((p) => p.buffer)).size).toBe(held.length);
    expect(foreign.every((b) => b === 0xa5)).toBe(true);
  });

  it('ignores a stale piece given back again after its memory was delivered anew', async () => {
    const block = 16 * 1024;
    const { file, bytes } = fileOf(40 * block);
    const reader = openBlockReader(file, block);
    const seen: { piece: Buffer; at: number }[] = [];
    let first: Buffer | undefined;
    let n = 0;
    for await (const piece of reader.stream as AsyncIterable<Buffer>) {
      seen.push({ piece, at: n * block });
      if (n === 0) {
        first = piece;
        reader.release(piece);
      }
      // By now piece 0's memory has been read into again and delivered as a newer piece, held.
      if (n === 5) reader.release(first!);
      n++;
    }
    for (const { piece, at } of seen.slice(1)) expect(piece.equals(bytes.subarray(at, at + block))).toBe(true);
  });

  it('closes its file when destroyed before the open ended, during a read, or with an error', async () => {
    const block = 64 * 1024;
    const { file } = fileOf(40 * block);
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < 20; i++) {
      const early = openBlockReader(file, block);
      early.stream.destroy();
      await once(early.stream, 'close');
      const reading = openBlockReader(file, block);
      reading.stream.on('data', () => undefined);
      await once(reading.stream, 'data');
      reading.stream.destroy();
      await once(reading.stream, 'close');
    }
    const failing = openBlockReader(file, block);
    const pieces = (failing.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    await pieces.next();
    failing.stream.destroy(new Error('stopped by the test'));
    await expect(pieces.next()).rejects.toThrow('stopped by the test');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fds()).toBe(before);
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
