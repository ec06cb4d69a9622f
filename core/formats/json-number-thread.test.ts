import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { rng } from '../test-helpers/fixtures.js';
import {
  SPECIAL,
  threadUp,
  bytes,
  makeEntries,
  toChunks,
  headerFor,
  encode,
  decode,
  expectSameEntries,
  errorOf,
} from '../test-helpers/json-codec.js';
import type { EntryChunk } from '../types.js';
import { jsonDecodeTuning, jsonEncodeTuning } from './json.js';
import {
  NumberJobError,
  WorkShare,
  failNextNumberJobForTest,
  formatVectorsOffThread,
  numberThreadStats,
  parseVectorsOffThread,
} from './json-number-thread.js';
import { float32TextSource, parseFloat32Array, writeFloat32Array } from './json-scanner.js';

describe('json codec: the number thread', () => {
  it('parses vectors from a transferred buffer (and hands it back), skips entries marked −1 and names the ones it refuses', async () => {
    const text = Buffer.from('{"vector":[0.1,-0,1e-7,3.4028234663852886e38]} [0.12345678901,2,3,4] [1, 2,3,4] [1,2,3] [5e-324,-0.000001,7,8]');
    const stage = Uint8Array.from(text);
    const starts = Int32Array.from([10, text.indexOf('[0.123'), text.indexOf('[1, '), -1, text.indexOf('[1,2,3]'), text.indexOf('[5e')]);
    await threadUp();
    const { vectors, failed, stage: back } = await parseVectorsOffThread(stage, starts, starts.length, 4);
    expect(stage.length).toBe(0); // transferred …
    expect(Buffer.from(back).equals(text)).toBe(true); // … and back
    expect(Array.from(failed)).toEqual([2, 4]);
    const expected = Float32Array.from([0.1, -0, 1e-7, 3.4028234663852886e38, 0.12345678901, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5e-324, -0.000001, 7, 8]);
    for (const k of [2, 4]) vectors.fill(0, k * 4, k * 4 + 4); // refused: the caller fills them
    expect(bytes(vectors).equals(bytes(expected))).toBe(true);
    // Jobs may overlap.
    const all = await Promise.all([1, 2, 3].map(() => parseVectorsOffThread(Uint8Array.from(text), starts.subarray(0, 2), 2, 4)));
    for (const r of all) expect(bytes(r.vectors).equals(bytes(expected.subarray(0, 8)))).toBe(true);
  });

  it('formats vectors exactly as this thread does, hands both buffers back, reuses a big enough one and names the first non-finite entry', async () => {
    const dim = SPECIAL.length;
    const values = new Float32Array(3 * dim);
    values.set(SPECIAL, 0);
    values.set(SPECIAL.map((x) => -x / 3), dim);
    values.set(SPECIAL.map((x) => x / 7), 2 * dim);
    const expected = Buffer.alloc(3 * dim * 25);
    const ends: number[] = [];
    for (let k = 0, o = 0; k < 3; k++) ends.push((o = writeFloat32Array(expected, o, values, k * dim, k * dim + dim)));
    await threadUp();
    const sent = values.slice();
    const out = new Uint8Array(4 * dim * 25);
    const first = await formatVectorsOffThread(sent, 3, dim, out);
    expect([sent.length, out.length]).toEqual([0, 0]); // transferred …
    expect(bytes(first.values).equals(bytes(values))).toBe(true); // … and back
    expect(first.text.byteLength).toBe(4 * dim * 25); // written into the buffer it was given
    expect(Array.from(first.ends)).toEqual(ends);
    expect(Buffer.from(first.text.subarray(0, ends[2])).equals(expected.subarray(0, ends[2]))).toBe(true);
    expect(first.failed).toBe(-1);

    first.values[dim + 5] = Number.POSITIVE_INFINITY;
    const tooSmall = new Uint8Array(10);
    const second = await formatVectorsOffThread(first.values, 3, dim, tooSmall);
    expect(tooSmall.length).toBe(0); // transferred too
    expect(second.failed).toBe(1);
    expect(second.ends[0]).toBe(ends[0]);
    expect(Buffer.from(second.text.subarray(0, ends[0])).equals(expected.subarray(0, ends[0]))).toBe(true);
    expect(second.text.byteLength).toBeGreaterThanOrEqual(3 * dim * 25); // a bigger buffer was made
  });

  it('answers a job that fails with its error and its buffers, and stays up for the next one', async () => {
    await threadUp();
    const { stops, failedJobs } = numberThreadStats();
    // A negative count cannot be allocated: each job fails inside the thread.
    const values = Float32Array.from([1, 2, 3, 4]);
    const out = new Uint8Array(64);
    const formatErr = await formatVectorsOffThread(values, -1, 4, out).catch((e: unknown) => e);
    expect(formatErr).toBeInstanceOf(NumberJobError);
    expect((formatErr as Error).message).toMatch(/could not do a job/);
    const back = (formatErr as NumberJobError).returned;
    expect(Array.from(back.values!)).toEqual([1, 2, 3, 4]);
    expect(back.out!.byteLength).toBe(64);
    const stage = Buffer.from('[1,2]');
    const parseErr = await parseVectorsOffThread(Uint8Array.from(stage), Int32Array.of(0), -1, 2).catch((e: unknown) => e);
    expect(parseErr).toBeInstanceOf(NumberJobError);
    expect(Buffer.from((parseErr as NumberJobError).returned.stage!).equals(stage)).toBe(true);
    const after = await formatVectorsOffThread(Float32Array.from([1, 2, 3, 4]), 1, 4);
    expect(Buffer.from(after.text.subarray(0, after.ends[0])).toString('latin1')).toBe('1,2,3,4');
    expect(numberThreadStats().stops).toBe(stops);
    expect(numberThreadStats().failedJobs).toBe(failedJobs + 2);
  });

  it('does the job of a failed number-thread job on this thread: the same file bytes, the same vectors read', async () => {
    const dim = 16;
    const entries = makeEntries(3000, dim, 21);
    const chunks = toChunks(entries, dim, 1024);
    const saved = [jsonEncodeTuning.threadMinValues, jsonDecodeTuning.threadMinValues] as const;
    try {
      jsonEncodeTuning.threadMinValues = Number.POSITIVE_INFINITY;
      const alone = await encode(headerFor(dim, 3000), chunks);
      jsonEncodeTuning.threadMinValues = jsonDecodeTuning.threadMinValues = 0;
      await threadUp();
      const { failedJobs } = numberThreadStats();
      failNextNumberJobForTest();
      const shared = await encode(headerFor(dim, 3000), chunks);
      expect(numberThreadStats().failedJobs).toBe(failedJobs + 1);
      expect(shared.file.equals(alone.file)).toBe(true);
      failNextNumberJobForTest();
      const read = await decode(shared.file);
      expect(numberThreadStats().failedJobs).toBe(failedJobs + 2);
      expectSameEntries(read.entries, entries);
    } finally {
      [jsonEncodeTuning.threadMinValues, jsonDecodeTuning.threadMinValues] = saved;
    }
  });

  it('gets number code that runs on its own: the same text out and the same bits in as on this thread', () => {
    // What the thread evaluates, in a bare context: a name the code uses but the source does not
    // define would throw here instead of on some rare path in the thread.
    const own = runInNewContext(`${float32TextSource()}\n({ writeFloat32Array, parseFloat32Array })`, { Buffer }) as {
      writeFloat32Array: typeof writeFloat32Array;
      parseFloat32Array: typeof parseFloat32Array;
    };
    const rand = rng(5);
    const values = new Float32Array(256 * 8 + SPECIAL.length);
    const bits = new Uint32Array(values.buffer);
    for (let e = 0; e < 256; e++) {
      for (let k = 0; k < 8; k++) bits[e * 8 + k] = ((rand() < 0.5 ? 1 : 0) << 31) | (e << 23) | Math.floor(rand() * 0x800000);
    }
    values.set(SPECIAL, 256 * 8);
    const finite = values.filter((x) => Number.isFinite(x));
    const here = Buffer.alloc(finite.length * 25 + 2);
    const there = Buffer.alloc(finite.length * 25 + 2);
    here[0] = there[0] = 0x5b;
    const end = writeFloat32Array(here, 1, finite, 0, finite.length);
    expect(own.writeFloat32Array(there, 1, finite, 0, finite.length)).toBe(end);
    expect(there.equals(here)).toBe(true);
    here[end] = 0x5d;
    const back = new Float32Array(finite.length);
    expect(own.parseFloat32Array(here, 0, back, 0, finite.length)).toBe(end + 1);
    expect(bytes(back).equals(bytes(finite))).toBe(true);
    expect(own.writeFloat32Array(there, 0, Float32Array.of(1, Number.NaN), 0, 2)).toBe(-1);
  });

  it('writes the very same file bytes with the number thread as without it, across chunks of every size', async () => {
    const dim = 48;
    const entries = makeEntries(2600, dim, 11);
    entries.forEach((e, i) => e.vector.set(SPECIAL.map((x) => x * (i % 2 ? -1 : 1)).slice(0, dim), 0));
    const chunks = [1, 2, 1024, 7, 1024, 500, 42].reduce<EntryChunk[]>((acc, per) => {
      const done = acc.reduce((n, c) => n + c.ids.length, 0);
      return acc.concat(toChunks(entries.slice(done, done + per), dim, per));
    }, []);
    expect(chunks.reduce((n, c) => n + c.ids.length, 0)).toBe(2600);
    const saved = jsonEncodeTuning.threadMinValues;
    try {
      jsonEncodeTuning.threadMinValues = Number.POSITIVE_INFINITY;
      const alone = await encode(headerFor(dim, 2600), chunks);
      jsonEncodeTuning.threadMinValues = 0;
      await threadUp();
      const before = numberThreadStats().formattedEntries;
      const shared = await encode(headerFor(dim, 2600), chunks);
      // The thread did take part (every chunk of more than one entry gives it some).
      expect(numberThreadStats().formattedEntries - before).toBeGreaterThan(500);
      expect(shared.file.equals(alone.file)).toBe(true);
      expect(shared.summary).toEqual(alone.summary);
      expectSameEntries((await decode(shared.file)).entries, entries);

      // A non-finite component in the part the thread writes (a chunk's last entry is always
      // its) is reported like one this thread finds: by id and index.
      const bad = toChunks(entries.slice(0, 300), dim, 100);
      bad[1]!.vectors[99 * dim + 3] = Number.NaN;
      const err = await errorOf(() => encode(headerFor(dim, 300), bad));
      expect([err.code, err.message]).toEqual(['INVALID_VECTOR', `The vector of "${entries[199]!.id}" has a non-finite component at index 3 (NaN).`]);
    } finally {
      jsonEncodeTuning.threadMinValues = saved;
    }
  });

  it('divides a chunk so both threads finish together, always leaving each at least one entry', () => {
    const share = new WorkShare();
    expect([share.split(2), share.split(1000)]).toEqual([1, 500]);
    // This thread takes twice as long per entry: it should end up with about a third.
    for (let i = 0; i < 40; i++) {
      const mine = share.split(900);
      share.record(mine, mine * 2, 900 - mine, 900 - mine);
    }
    expect(Math.abs(share.split(900) - 300)).toBeLessThanOrEqual(3);
    // Never all on one side, whatever the timings say: at most nine tenths either way.
    for (let i = 0; i < 10; i++) {
      const mine = share.split(900);
      share.record(mine, mine * 1000, 900 - mine, (900 - mine) * 0.001);
    }
    expect(share.split(900)).toBe(90);
    for (let i = 0; i < 10; i++) {
      const mine = share.split(900);
      share.record(mine, mine * 0.001, 900 - mine, (900 - mine) * 1000);
    }
    expect(share.split(900)).toBe(810);
    expect(share.split(2)).toBe(1);
  });
});
