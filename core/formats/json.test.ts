import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TRICKY_IDS, rng } from '../test-helpers/fixtures.js';
import type { DatasetHeader, EntryChunk, Metadata } from '../types.js';
import type { DecodeOptions, EncodeSummary } from './codec.js';
import { jsonCodec } from './json.js';
import { parseFloat32Array, writeFloat32Array } from './json-scanner.js';

interface Entry {
  id: string;
  vector: Float32Array;
  metadata?: Metadata;
}

const SPECIAL = [
  -0, 0, 1.401298464324817e-45, 1e-40, -1.1754942106924411e-38, 1.1754943508222875e-38, 3.4028234663852886e38,
  -3.4028234663852886e38, 0.1, -0.1, 1, -1, 1e-7, 9.99999905104687e-8, 1e-14, 1.2e-15, 123456789, 1e20, 1e21, 16777217,
  0.5, 2 ** -24, 65504, 0.3333333432674408,
].map(Math.fround);

function bytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function makeEntries(count: number, dimension: number, seed = 1): Entry[] {
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

function toChunks(entries: Entry[], dimension: number, per = 100): EntryChunk[] {
  const chunks: EntryChunk[] = [];
  for (let i = 0; i < entries.length; i += per) {
    const part = entries.slice(i, i + per);
    const vectors = new Float32Array(part.length * dimension);
    part.forEach((e, k) => vectors.set(e.vector, k * dimension));
    chunks.push({ ids: part.map((e) => e.id), vectors, metadata: part.map((e) => e.metadata) });
  }
  return chunks;
}

function headerFor(dimension: number, count: number, metadata?: Metadata): DatasetHeader {
  return { dimension, metric: 'cosine', count, createdAt: 1_700_000_000_123, ...(metadata ? { metadata } : {}) };
}

async function encode(header: DatasetHeader, chunks: EntryChunk[], signal?: AbortSignal) {
  const summary: EncodeSummary = { count: 0, contentChecksum: '' };
  const pieces: Buffer[] = [];
  for await (const piece of jsonCodec.encode(header, chunks, summary, signal)) pieces.push(piece);
  return { file: Buffer.concat(pieces), pieces, summary };
}

/** The file in pieces: fixed size, or random sizes up to `max` bytes. */
async function* split(file: Buffer, size: number | { max: number; seed: number }): AsyncGenerator<Buffer> {
  const rand = typeof size === 'number' ? undefined : rng(size.seed);
  for (let i = 0; i < file.length; ) {
    const n = rand && typeof size !== 'number' ? 1 + Math.floor(rand() * size.max) : (size as number);
    yield file.subarray(i, i + n);
    i += n;
  }
}

async function decode(file: Buffer | AsyncIterable<Buffer>, options?: DecodeOptions, size: number | { max: number; seed: number } = 65536) {
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

function expectSameEntries(actual: Entry[], expected: Entry[]): void {
  expect(actual.map((e) => e.id)).toEqual(expected.map((e) => e.id));
  for (let i = 0; i < expected.length; i++) {
    expect(bytes(actual[i]!.vector).equals(bytes(expected[i]!.vector)), `vector bits of ${expected[i]!.id}`).toBe(true);
    expect(actual[i]!.metadata).toStrictEqual(expected[i]!.metadata);
  }
}

async function codeOf(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${String(err)}`;
  }
  return 'resolved';
}

async function errorOf(work: () => Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await work();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected an error');
}

/** The text with the first digit 1–8 at or after `from` raised by one (a real change of value). */
function bumpDigit(text: string, from: number): Buffer {
  const at = text.slice(from).search(/[1-8]/) + from;
  return Buffer.from(text.slice(0, at) + (Number(text[at]) + 1) + text.slice(at + 1));
}

const drain = async (file: Buffer, options?: DecodeOptions) => decode(file, options);

describe('json codec: round trips', () => {
  const dim = 24;
  const entries = makeEntries(40, dim);
  entries.forEach((e, i) => {
    e.vector[1] = SPECIAL[i % SPECIAL.length]!;
    e.vector[2] = SPECIAL[(i * 7 + 3) % SPECIAL.length]!;
  });
  entries.push({ id: '東京-🚀', vector: Float32Array.from(SPECIAL.slice(0, dim)), metadata: { '': 'empty key', 'ü': ['🚀'] } });
  entries.push({ id: 'quote"back\\slash\nnew\u2028line\u0001', vector: new Float32Array(dim).fill(-0) });

  it('keeps ids, vector bits, metadata and the header, in any piece sizes (1 byte included)', async () => {
    const header = headerFor(dim, entries.length, { note: 'export', nested: { a: [1, 2] } });
    const { file, summary, pieces } = await encode(header, toChunks(entries, dim, 7));
    expect(summary.count).toBe(entries.length);
    expect(pieces.length).toBeGreaterThan(0);
    for (const size of [1, 2, 3, 5, { max: 40, seed: 3 }, { max: 4096, seed: 4 }, 1 << 22]) {
      const { dataset, entries: back } = await decode(file, {}, size);
      expect(dataset.header).toEqual(header);
      expect(dataset.legacy).toBe(false);
      expectSameEntries(back, entries);
      expect(dataset.storedChecksum()).toBe(summary.contentChecksum);
    }
  });

  it('writes a superset of the original DatabaseState that plain JSON.parse reads', async () => {
    const header = headerFor(dim, entries.length, { note: 'n' });
    const { file, summary } = await encode(header, toChunks(entries, dim));
    const parsed = JSON.parse(file.toString('utf8')) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual([
      'version', 'format', 'formatVersion', 'options', 'stats', 'createdAt', 'metadata', 'timestamp', 'vectors', 'count', 'contentChecksum',
    ]);
    expect(parsed).toMatchObject({
      version: '1.0.0',
      format: 'vecsnap-json',
      formatVersion: 1,
      options: { dimension: dim, metric: 'cosine' },
      stats: { count: entries.length, dimension: dim, metric: 'cosine' },
      timestamp: header.createdAt,
      count: entries.length,
      contentChecksum: summary.contentChecksum,
    });
    const vectors = parsed.vectors as { id: string; vector: number[]; metadata?: unknown }[];
    expect(vectors).toHaveLength(entries.length);
    vectors.forEach((v, i) => {
      expect(v.id).toBe(entries[i]!.id);
      expect(bytes(Float32Array.from(v.vector)).equals(bytes(entries[i]!.vector))).toBe(true);
      expect('metadata' in v).toBe(entries[i]!.metadata !== undefined);
    });
    // One entry per line, header on the first line, trailer on the last.
    const lines = file.toString('utf8').split('\n');
    expect(lines).toHaveLength(entries.length + 3);
    expect(lines[0]!.endsWith('"vectors":[')).toBe(true);
    expect(lines.at(-2)).toBe(`],"count":${entries.length},"contentChecksum":"${summary.contentChecksum}"}`);
    expect(lines.at(-1)).toBe('');
  });

  it('reads a reformatted (pretty-printed) file of its own format through the generic path', async () => {
    // (JSON.stringify turns -0 into 0, so the reformatted data here has none.)
    const plain = makeEntries(30, dim, 2);
    const { file, summary } = await encode(headerFor(dim, plain.length), toChunks(plain, dim));
    const pretty = Buffer.from(JSON.stringify(JSON.parse(file.toString('utf8')), null, 2));
    const { dataset, entries: back } = await decode(pretty, {}, { max: 3000, seed: 9 });
    expectSameEntries(back, plain);
    expect(dataset.storedChecksum()).toBe(summary.contentChecksum);
  });

  it('skips a UTF-8 byte order mark, even split across pieces', async () => {
    const { file } = await encode(headerFor(dim, 3), toChunks(entries.slice(0, 3), dim));
    const { entries: back } = await decode(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), file]), {}, 1);
    expectSameEntries(back, entries.slice(0, 3));
  });

  it('handles an empty dataset', async () => {
    const header = headerFor(5, 0);
    const { file, summary } = await encode(header, []);
    expect(summary.count).toBe(0);
    expect(JSON.parse(file.toString('utf8'))).toMatchObject({ vectors: [], count: 0, options: { dimension: 5 } });
    const { dataset, entries: back, chunkSizes } = await decode(file, {}, 1);
    expect(dataset.header).toEqual(header);
    expect(back).toEqual([]);
    expect(chunkSizes).toEqual([]);
    expect(dataset.storedChecksum()).toBe(summary.contentChecksum);
  });

  it('round-trips 10,000 × 384 in bounded chunks and ~1 MiB output pieces', async () => {
    const big = makeEntries(10_000, 384, 5);
    const { file, pieces, summary } = await encode(headerFor(384, big.length), toChunks(big, 384, 1000));
    expect(pieces.length).toBeGreaterThan(5);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual((1 << 20) + 64 * 1024);
    const { dataset, entries: back, chunkSizes } = await decode(file, {}, { max: 200_000, seed: 2 });
    expect(Math.max(...chunkSizes)).toBeLessThanOrEqual(2048);
    expectSameEntries(back, big);
    expect(dataset.storedChecksum()).toBe(summary.contentChecksum);
  });

  it('returns from decode() at the vectors key, before the input is read', async () => {
    const big = makeEntries(8000, 64, 6);
    const { file } = await encode(headerFor(64, big.length), toChunks(big, 64));
    let pulled = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const p of split(file, 16 * 1024)) {
        pulled += p.length;
        yield p;
      }
    }
    const dataset = await jsonCodec.decode(counted());
    expect(dataset.header).toMatchObject({ dimension: 64, count: 8000 });
    expect(pulled).toBeLessThan(file.length / 2);
    let n = 0;
    for await (const c of dataset.chunks) n += c.ids.length;
    expect(n).toBe(8000);
  });

  it('writes every float32 as text that rounds back to the same bits', () => {
    const rand = rng(11);
    const u = new Uint32Array(1);
    const f = new Float32Array(u.buffer);
    const out = Buffer.alloc(64);
    const values: number[] = [...SPECIAL];
    for (let e = 0; e < 255; e++) {
      for (let k = 0; k < 400; k++) {
        u[0] = (e << 23) | Math.floor(rand() * 0x800000) | (k % 2 ? 0x80000000 : 0);
        values.push(f[0]!);
      }
      u[0] = e << 23; // exact powers of two
      values.push(f[0]!);
      u[0] = (e << 23) | 0x7fffff;
      values.push(f[0]!);
    }
    for (let k = 0; k < 200_000; k++) values.push(Math.fround(rand() * 2 - 1));
    const numberSyntax = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
    const back = new Float32Array(1);
    const bad: string[] = [];
    const one = new Float32Array(1);
    const writeFloat32 = (buf: Buffer, at: number, v: number) => {
      one[0] = v;
      return writeFloat32Array(buf, at, one, 0, 1);
    };
    for (const v of values) {
      const n = writeFloat32(out, 0, v);
      const text = out.toString('latin1', 0, n);
      if (!numberSyntax.test(text) || !Object.is(Math.fround(Number(text)), v)) bad.push(`${v} written as ${text}`);
      const end = parseFloat32Array(Buffer.from(`[${text}]`), 0, back, 0, 1);
      if (end !== n + 2 || !Object.is(back[0], v)) bad.push(`${text} parsed as ${back[0]}`);
    }
    expect(bad).toEqual([]);
    const short = (v: number) => out.toString('latin1', 0, writeFloat32(out, 0, Math.fround(v)));
    expect([short(0.1), short(-0), short(0.5), short(1e-10), short(100), short(-2.5e-8), short(1.5e-5)]).toEqual([
      '0.1', '-0', '0.5', '1e-10', '100', '-2.5e-8', '0.000015',
    ]);
    expect(writeFloat32Array(out, 0, Float32Array.of(1, 2, 0.25), 0, 3)).toBe(8);
    // Long double texts (as the original module wrote them) parse like Math.fround(Number(text)),
    // also right at and next to the midpoints between float32 neighbours.
    const f64 = new Float64Array(1);
    const u64 = new BigUint64Array(f64.buffer);
    const step = (x: number, by: bigint) => ((f64[0] = x), (u64[0] += by), f64[0]!);
    const texts: string[] = ['12345678901234567890', '-0.000000000000000000000000000123456789012345678', '1.7976931348623157e308'];
    for (let k = 0; k < 20_000; k++) {
      const lo = Math.fround(rand() * 2 ** (Math.floor(rand() * 60) - 30));
      const mid = (lo + Math.fround(lo * (1 + 2 ** -23))) / 2; // halfway to the next float32 (exact)
      for (const x of [rand(), mid, step(mid, 1n), step(mid, -1n), -mid]) texts.push(String(x), x.toExponential(19));
    }
    const parsed = new Float32Array(1);
    const wrong = texts.filter((text) => {
      const end = parseFloat32Array(Buffer.from(`[${text}]`), 0, parsed, 0, 1);
      const expected = Math.fround(Number(text));
      return Number.isFinite(expected) ? end !== text.length + 2 || !Object.is(parsed[0], expected) : end !== -1;
    });
    expect(wrong).toEqual([]);
    expect(out.toString('latin1', 0, 8)).toBe('1,2,0.25');
    expect(writeFloat32Array(out, 0, Float32Array.of(1, Number.NaN), 0, 2)).toBe(-1);
    expect(writeFloat32Array(out, 0, Float32Array.of(-Infinity), 0, 1)).toBe(-1);
  });
});

describe("json codec: the original module's DatabaseState", () => {
  const dim = 4;
  /** Built like ruvector-extensions' serializeDatabase: key order version, options, stats, vectors, timestamp, checksum. */
  function legacyState(n: number, vectorAsObject = false): Record<string, unknown> {
    const state: Record<string, unknown> = {
      version: '1.0.0',
      options: { dimension: dim, metric: 'euclidean' },
      stats: { count: n, dimension: dim, metric: 'euclidean' },
      vectors: Array.from({ length: n }, (_, i) => {
        const vector = Array.from({ length: dim }, (_, j) => (i + 1) * 0.013 - j * 1.7);
        return {
          id: `v${i}`,
          vector: vectorAsObject ? Float32Array.from(vector) : vector,
          ...(i % 2 ? { metadata: { i, tag: 'ü' } } : {}),
        };
      }),
      timestamp: 1_690_000_000_000,
    };
    state.checksum = createHash('sha256').update(JSON.stringify(state)).digest('hex');
    return state;
  }
  const expected = (n: number): Entry[] =>
    Array.from({ length: n }, (_, i) => ({
      id: `v${i}`,
      vector: Float32Array.from({ length: dim }, (_, j) => (i + 1) * 0.013 - j * 1.7),
      ...(i % 2 ? { metadata: { i, tag: 'ü' } } : {}),
    }));

  it('decodes a compact file with a correct checksum and verifies it', async () => {
    const state = legacyState(30);
    for (const size of [1, 7, 65536]) {
      const { dataset, entries } = await decode(Buffer.from(JSON.stringify(state)), {}, size);
      expect(dataset.legacy).toBe(true);
      expect(dataset.header).toEqual({ dimension: dim, metric: 'euclidean', count: 30, createdAt: 1_690_000_000_000 });
      expectSameEntries(entries, expected(30));
      expect(dataset.storedChecksum()).toBe(state.checksum);
    }
  });

  it('reads vectors that JSON.stringify wrote from a Float32Array ({"0":…})', async () => {
    const state = legacyState(3, true);
    const { dataset, entries } = await drain(Buffer.from(JSON.stringify(state)));
    expectSameEntries(entries, expected(3));
    expect(dataset.storedChecksum()).toBe(state.checksum);
  });

  it('rejects a compact file with one digit changed (CHECKSUM_MISMATCH), unless not verifying', async () => {
    const text = JSON.stringify(legacyState(10));
    const damaged = bumpDigit(text, text.indexOf('"vector":[', 200));
    const err = await errorOf(() => drain(damaged));
    expect(err).toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect(err.message).toMatch(/checksum/);
    const { dataset } = await drain(damaged, { verifyChecksum: false });
    expect(dataset.storedChecksum()).toBeUndefined();
  });

  it('verifies a pretty-printed file (as the original wrote uncompressed JSON); a damaged one is refused', async () => {
    const state = legacyState(6);
    const pretty = JSON.stringify(state, null, 2);
    const { dataset, entries } = await decode(Buffer.from(pretty), {}, { max: 50, seed: 1 });
    expect(dataset.legacy).toBe(true);
    expectSameEntries(entries, expected(6));
    expect(dataset.storedChecksum()).toBe(state.checksum);

    const damaged = pretty.replace('"v3"', '"v9"');
    await expect(drain(Buffer.from(damaged))).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH', message: expect.stringContaining('verifyChecksum: false') });
    // The person can still choose to load it, unverified.
    const { dataset: d2, entries: e2 } = await drain(Buffer.from(damaged), { verifyChecksum: false });
    expect(e2[3]!.id).toBe('v9');
    expect(d2.storedChecksum()).toBeUndefined();
  });

  it('verifies a checksum that is not the last key, and refuses a damaged one of those', async () => {
    const { checksum, ...rest } = legacyState(4);
    const first = JSON.stringify({ checksum, ...rest });
    expect((await drain(Buffer.from(first))).dataset.storedChecksum()).toBe(checksum);
    const damaged = Buffer.from(first.replace('"v2"', '"v7"'));
    await expect(drain(damaged)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect((await drain(damaged, { verifyChecksum: false })).dataset.storedChecksum()).toBeUndefined();
  });

  it('takes the dimension from the first vector when the file states none', async () => {
    const state = legacyState(3);
    delete state.options;
    delete state.stats;
    delete state.checksum;
    const { dataset, entries } = await drain(Buffer.from(JSON.stringify({ ...state, metadata: { from: 'old' } })));
    expect(dataset.header).toEqual({ dimension: dim, metric: 'cosine', count: 0, createdAt: 1_690_000_000_000, metadata: { from: 'old' } });
    expect(entries).toHaveLength(3);
    expect(dataset.storedChecksum()).toBeUndefined();
  });
});

describe('json codec: damaged and foreign input', () => {
  const dim = 6;
  const entries = makeEntries(12, dim, 3);
  const ourFile = async () => (await encode(headerFor(dim, entries.length), toChunks(entries, dim, 5))).file;

  it('reports a file truncated at any offset as CORRUPT_FILE', async () => {
    const file = await ourFile();
    const end = file.lastIndexOf('}');
    for (let cut = 0; cut <= end; cut++) {
      const code = await codeOf(() => drain(file.subarray(0, cut)));
      expect(code, `cut at ${cut}`).toBe('CORRUPT_FILE');
    }
    const legacy = Buffer.from(JSON.stringify({ version: '1.0.0', options: { dimension: 2 }, vectors: [{ id: 'a', vector: [1, 2] }], timestamp: 1 }));
    for (let cut = 0; cut < legacy.length; cut++) {
      expect(await codeOf(() => drain(legacy.subarray(0, cut))), `legacy cut at ${cut}`).toBe('CORRUPT_FILE');
    }
  });

  it('detects a changed digit inside a vector (CHECKSUM_MISMATCH)', async () => {
    const text = (await ourFile()).toString('utf8');
    const damaged = bumpDigit(text, text.indexOf('"vector":[', text.indexOf('"vector":[') + 1) + 12);
    const err = await errorOf(() => drain(damaged));
    expect(err).toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect(err.message).toMatch(/checksum/);
    expect(await codeOf(() => drain(damaged, { verifyChecksum: false }))).toBe('resolved');
  });

  it('rejects vector components that are not finite float32 numbers (INVALID_VECTOR, naming the id)', async () => {
    const text = (await ourFile()).toString('utf8');
    const id = entries[2]!.id;
    const at = text.indexOf(`{"id":${JSON.stringify(id)},"vector":[`) + `{"id":${JSON.stringify(id)},"vector":[`.length;
    const next = text.indexOf(',', at);
    for (const bad of ['"NaN"', 'null', '1e39', '-1e400', '"1"', 'true']) {
      const err = await errorOf(() => drain(Buffer.from(text.slice(0, at) + bad + text.slice(next))));
      expect(err, bad).toMatchObject({ code: 'INVALID_VECTOR' });
      expect(err.message).toContain(id);
    }
  });

  it('rejects a vector of the wrong length (DIMENSION_MISMATCH) and an entry without an id (CORRUPT_FILE)', async () => {
    const text = (await ourFile()).toString('utf8');
    const at = text.indexOf('"vector":[') + '"vector":['.length;
    const short = text.slice(0, at) + text.slice(text.indexOf(',', at) + 1);
    const err = await errorOf(() => drain(Buffer.from(short)));
    expect(err).toMatchObject({ code: 'DIMENSION_MISMATCH' });
    expect(err.message).toContain(entries[0]!.id);
    const longer = text.slice(0, at) + '0.5,' + text.slice(at);
    expect(await codeOf(() => drain(Buffer.from(longer)))).toBe('DIMENSION_MISMATCH');
    expect(await codeOf(() => drain(Buffer.from(text.replace('{"id":', '{"name":'))))).toBe('CORRUPT_FILE');
    expect(await codeOf(() => drain(Buffer.from(text.replace('"metadata":{', '"metadata":[{').replace(/}},\n/, '}]},\n'))))).toBe(
      'INVALID_METADATA',
    );
  });

  it('reports invalid JSON with a byte offset (CORRUPT_FILE)', async () => {
    const text = (await ourFile()).toString('utf8');
    for (const damaged of [
      text.replace('"vector":[', '"vector":[01,'),
      text.replace('"vector":[', '"vector":[.5,'),
      text.replace('},\n{', '}\n{'),
      text.replace('},\n{', '},,\n{'),
      text.replace('\n],"count"', ',\n],"count"'),
      text.replace('"formatVersion":1,', '"formatVersion":1,,'),
      text.replace('],"count":12', '],"count":12 13'),
    ]) {
      const err = await errorOf(() => drain(Buffer.from(damaged)));
      expect(err, damaged.slice(0, 80)).toMatchObject({ code: 'CORRUPT_FILE' });
      expect(err.message).toMatch(/byte \d+/);
    }
  });

  it('rejects a wrong count, trailing data, a missing vectors array (CORRUPT_FILE) but allows trailing whitespace', async () => {
    const file = await ourFile();
    const text = file.toString('utf8');
    expect(await codeOf(() => drain(Buffer.from(text.replace('],"count":12', '],"count":13'))))).toBe('CORRUPT_FILE');
    expect(await codeOf(() => drain(Buffer.concat([file, Buffer.from('x')])))).toBe('CORRUPT_FILE');
    expect(await codeOf(() => drain(Buffer.concat([file, Buffer.from('{}')])))).toBe('CORRUPT_FILE');
    expect(await codeOf(() => drain(Buffer.concat([file, Buffer.from(' \r\n\t ')])))).toBe('resolved');
    expect(await codeOf(() => drain(Buffer.from('{"version":"1.0.0","options":{"dimension":3}}')))).toBe('CORRUPT_FILE');
    expect(await codeOf(() => drain(Buffer.from('{"vectors":{"a":1}}')))).toBe('CORRUPT_FILE');
    expect(await codeOf(() => drain(Buffer.from('{}')))).toBe('CORRUPT_FILE');
    expect(await codeOf(() => drain(Buffer.from('')))).toBe('CORRUPT_FILE');
  });

  it('rejects input that is not a JSON object (UNSUPPORTED_FORMAT)', async () => {
    const rand = rng(5);
    const binary = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(rand() * 256)));
    binary[0] = 0x93;
    for (const input of [binary, Buffer.from('VSNAPBIN\x01\x00'), Buffer.from('hello'), Buffer.from(' [1,2]'), Buffer.from('SQLite format 3\0')]) {
      expect(await codeOf(() => drain(input))).toBe('UNSUPPORTED_FORMAT');
    }
  });

  it('refuses a newer format version (VERSION_UNSUPPORTED)', async () => {
    const text = (await ourFile()).toString('utf8');
    expect(await codeOf(() => drain(Buffer.from(text.replace('"formatVersion":1', '"formatVersion":2'))))).toBe('VERSION_UNSUPPORTED');
  });

  it('stops encoding when aborted (ABORTED) and rejects non-finite vectors', async () => {
    const controller = new AbortController();
    const big = toChunks(makeEntries(5000, 64, 8), 64, 100);
    const summary: EncodeSummary = { count: 0, contentChecksum: '' };
    let yielded = 0;
    const err = await errorOf(async () => {
      for await (const piece of jsonCodec.encode(headerFor(64, 5000), big, summary, controller.signal)) {
        yielded += piece.length;
        controller.abort();
      }
    });
    expect(err).toMatchObject({ code: 'ABORTED' });
    expect(yielded).toBeGreaterThan(0);
    expect(summary.contentChecksum).toBe('');

    const nan = toChunks(makeEntries(2, dim), dim);
    nan[0]!.vectors[3] = Number.NaN;
    expect(await codeOf(() => encode(headerFor(dim, 2), nan))).toBe('INVALID_VECTOR');
  });

  it('stops decoding when aborted (ABORTED)', async () => {
    const { file } = await encode(headerFor(32, 6000), toChunks(makeEntries(6000, 32, 4), 32, 500));
    const controller = new AbortController();
    const dataset = await jsonCodec.decode(split(file, 8192), { signal: controller.signal });
    const err = await errorOf(async () => {
      for await (const chunk of dataset.chunks) {
        expect(chunk.ids.length).toBeGreaterThan(0);
        controller.abort();
      }
    });
    expect(err).toMatchObject({ code: 'ABORTED' });
  });
});
