import { expect } from 'vitest';
import type { DecodeOptions, EncodeSummary } from '../formats/codec.js';
import { jsonCodec } from '../formats/json.js';
import { numberThreadReady, numberThreadStats } from '../formats/json-number-thread.js';
import type { DatasetHeader, EntryChunk, Metadata } from '../types.js';
import { TRICKY_IDS, rng } from './fixtures.js';

export { toChunks } from './fixtures.js';

/** Entries, chunks, files and checks shared by the JSON codec's tests and the number thread's. */

export interface Entry {
  id: string;
  vector: Float32Array;
  metadata?: Metadata;
}

export const SPECIAL = [
  -0, 0, 1.401298464324817e-45, 1e-40, -1.1754942106924411e-38, 1.1754943508222875e-38, 3.4028234663852886e38,
  -3.4028234663852886e38, 0.1, -0.1, 1, -1, 1e-7, 9.99999905104687e-8, 1e-14, 1.2e-15, 123456789, 1e20, 1e21, 16777217,
  0.5, 2 ** -24, 65504, 0.3333333432674408,
].map(Math.fround);

/** Waits for the number thread; fails at once if it stopped for good (instead of at the test timeout). */
export async function threadUp(): Promise<void> {
  while (!numberThreadReady()) {
    if (numberThreadStats().stops >= 2) throw new Error('The number thread stopped for good.');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function bytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function makeEntries(count: number, dimension: number, seed = 1): Entry[] {
  const rand = rng(seed);
  const out: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const vector = new Float32Array(dimension);
    for (let j = 0; j < dimension; j++) vector[j] = (rand() * 2 - 1) * (j % 7 === 0 ? 1e-3 : 1);
    const id = i < TRICKY_IDS.length ? `${TRICKY_IDS[i]}-${i}` : `id-${i}`;
    const kind = i % 4;
    const metadata =
      kind === 0
        ? undefined
        : kind === 1
          ? { title: `doc ${i}`, nested: { deep: [1, { x: 'y' }], ok: true, none: null }, score: rand() }
          : kind === 2
            ? {}
            : { text: 'Grüße 🌍 "quoted" \\ back\nline', n: i };
    out.push(metadata === undefined ? { id, vector } : { id, vector, metadata });
  }
  return out;
}

export function headerFor(dimension: number, count: number, metadata?: Metadata): DatasetHeader {
  return { dimension, metric: 'cosine', count, createdAt: 1_700_000_000_123, ...(metadata ? { metadata } : {}) };
}

export async function encode(header: DatasetHeader, chunks: EntryChunk[], signal?: AbortSignal) {
  const summary: EncodeSummary = { count: 0, contentChecksum: '' };
  const pieces: Buffer[] = [];
  for await (const piece of jsonCodec.encode(header, chunks, summary, signal)) pieces.push(piece);
  return { file: Buffer.concat(pieces), pieces, summary };
}

/** The file in pieces: fixed size, or random sizes up to `max` bytes. */
export async function* split(file: Buffer, size: number | { max: number; seed: number }): AsyncGenerator<Buffer> {
  const rand = typeof size === 'number' ? undefined : rng(size.seed);
  for (let i = 0; i < file.length; ) {
    const n = rand && typeof size !== 'number' ? 1 + Math.floor(rand() * size.max) : (size as number);
    yield file.subarray(i, i + n);
    i += n;
  }
}

export async function decode(file: Buffer | AsyncIterable<Buffer>, options?: DecodeOptions, size: number | { max: number; seed: number } = 65536) {
  const input = Buffer.isBuffer(file) ? split(file, size) : file;
  const dataset = await jsonCodec.decode(input, options);
  const entries: Entry[] = [];
  const chunkSizes: number[] = [];
  const dim = dataset.header.dimension;
  for await (const chunk of dataset.chunks) {
    chunkSizes.push(chunk.ids.length);
    expect(chunk.vectors.length).toBe(chunk.ids.length * dim);
    chunk.ids.forEach((id, i) => {
      const vector = chunk.vectors.slice(i * dim, (i + 1) * dim);
      const metadata = chunk.metadata[i];
      entries.push(metadata === undefined ? { id, vector } : { id, vector, metadata });
    });
  }
  return { dataset, entries, chunkSizes };
}

export function expectSameEntries(actual: Entry[], expected: Entry[]): void {
  expect(actual.map((e) => e.id)).toEqual(expected.map((e) => e.id));
  for (let i = 0; i < expected.length; i++) {
    expect(bytes(actual[i]!.vector).equals(bytes(expected[i]!.vector)), `vector bits of ${expected[i]!.id}`).toBe(true);
    expect(actual[i]!.metadata).toStrictEqual(expected[i]!.metadata);
  }
}

export async function codeOf(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${String(err)}`;
  }
  return 'resolved';
}

export async function errorOf(work: () => Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await work();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected an error');
}
