import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { TRICKY_IDS, rng } from '../test-helpers/fixtures.js';
import type { DatasetHeader, EntryChunk, Metadata } from '../types.js';
import { BINARY_MAGIC, binaryCodec } from './binary.js';
import type { DecodeOptions, EncodeSummary } from './codec.js';
import { ContentDigest } from './content-digest.js';

type Sizes = number | { max: number; seed: number };

const SPECIAL = [
  -0, 0, 1.401298464324817e-45, -1.401298464324817e-45, 1e-40, 1.1754942106924411e-38, 3.4028234663852886e38,
  -3.4028234663852886e38, 0.1, 16777217, 2 ** -24,
].map(Math.fround);

const METADATA_KINDS: ((i: number, rand: () => number) => Metadata | undefined)[] = [
  () => undefined,
  (i, rand) => ({ title: `doc ${i}`, nested: { deep: [1, { x: 'y' }], ok: true, no: false, none: null }, score: rand() }),
  () => ({}),
  (i) => ({ text: 'Grüße 🌍 "quoted" \\ back\nline', n: i, big: 2 ** 53 - 1, neg: -(2 ** 40), list: [], 東京: '🚀' }),
];

function bytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** `count` seeded entries (the same data whatever `per`) in chunks of `per`: tricky ids first, mixed metadata. */
function makeChunks(count: number, dimension: number, per = 100, seed = 1): EntryChunk[] {
  const rand = rng(seed);
  const ids = Array.from({ length: count }, (_, i) => (i < TRICKY_IDS.length ? `${TRICKY_IDS[i]}-${i}` : `id-${i}`));
  const metadata = ids.map((_, i) => METADATA_KINDS[i % METADATA_KINDS.length]!(i, rand));
  const vectors = new Float32Array(count * dimension);
  for (let j = 0; j < vectors.length; j++) vectors[j] = rand() * 2 - 1;
  const chunks: EntryChunk[] = [];
  for (let start = 0; start < count; start += per) {
    const end = Math.min(count, start + per);
    chunks.push({
      ids: ids.slice(start, end),
      vectors: vectors.slice(start * dimension, end * dimension),
      metadata: metadata.slice(start, end),
    });
  }
  return chunks;
}

function headerFor(dimension: number, count: number, metadata?: Metadata): DatasetHeader {
  return { dimension, metric: 'cosine', count, createdAt: 1_700_000_000_123, ...(metadata ? { metadata } : {}) };
}

async function encode(header: DatasetHeader, chunks: Iterable<EntryChunk> | AsyncIterable<EntryChunk>, signal?: AbortSignal) {
  const summary: EncodeSummary = { count: -1, contentChecksum: '' };
  const pieces: Buffer[] = [];
  for await (const piece of binaryCodec.encode(header, chunks, summary, signal)) pieces.push(piece);
  return { file: Buffer.concat(pieces), pieces, summary };
}

/** The file fed in fixed-size pieces or random sizes from 1 to `max` bytes. */
async function* feed(file: Buffer, sizes: Sizes): AsyncGenerator<Buffer> {
  const rand = typeof sizes === 'number' ? undefined : rng(sizes.seed);
  for (let i = 0; i < file.length; ) {
    const n = typeof sizes === 'number' ? sizes : 1 + Math.floor(rand!() * sizes.max);
    yield file.subarray(i, i + n);
    i += n;
  }
}

async function decode(file: Buffer, options?: DecodeOptions, sizes: Sizes = 65_536) {
  const dataset = await binaryCodec.decode(feed(file, sizes), options);
  const chunks: EntryChunk[] = [];
  for await (const chunk of dataset.chunks) chunks.push(chunk);
  return { ...dataset, list: chunks, stored: dataset.storedChecksum() };
}

/** The outcome of decoding `file` to the end: the VecSnapError code, or 'ok'. */
async function outcome(file: Buffer, options?: DecodeOptions, sizes: Sizes = 65_536): Promise<string> {
  try {
    await decode(file, options, sizes);
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? `raw ${String(err)}`;
  }
}

function flat(chunks: EntryChunk[]) {
  return {
    ids: chunks.flatMap((c) => c.ids),
    metadata: chunks.flatMap((c) => c.metadata),
    vectors: Buffer.concat(chunks.map((c) => bytes(c.vectors))),
  };
}

async function expectRoundTrip(header: DatasetHeader, chunks: EntryChunk[], sizes: Sizes) {
  const { file, summary } = await encode(header, chunks);
  const decoded = await decode(file, {}, sizes);
  expect(decoded.header).toEqual(header);
  expect(decoded.legacy).toBe(false);
  const want = flat(chunks);
  const got = flat(decoded.list);
  expect(got.ids).toEqual(want.ids);
  expect(got.vectors.equals(want.vectors)).toBe(true);
  expect(got.metadata).toEqual(want.metadata);
  got.metadata.forEach((m, i) => expect(m === undefined).toBe(want.metadata[i] === undefined));
  for (const chunk of decoded.list) {
    expect(chunk.vectors.byteOffset % 4).toBe(0);
    expect(chunk.vectors.byteLength).toBe(chunk.vectors.buffer.byteLength); // owns its memory
  }
  expect(summary.count).toBe(want.ids.length);
  expect(decoded.stored).toBe(summary.contentChecksum);
  return { file, summary, decoded };
}

/** A file assembled by hand, for damage the encoder never produces. */
const packr = new Packr({ useRecords: false, moreTypes: false });
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
function record(value: unknown): Buffer {
  const body = Buffer.from(packr.pack(value));
  return Buffer.concat([u32(body.length), body]);
}
function handMade(header: unknown, body: Buffer[] = [], trailer?: unknown): Buffer {
  const parts = [BINARY_MAGIC, u32(1), record(header), ...body];
  if (trailer !== undefined) parts.push(Buffer.from('T'), record(trailer));
  return Buffer.concat(parts);
}

describe('binaryCodec round trips', () => {
  it('starts with the magic and version and keeps everything exactly, fed in random and 1-byte pieces', async () => {
    const header = headerFor(8, 50, { note: 'Grüße', nested: { a: [1, null, true] } });
    const chunks = makeChunks(50, 8, 7);
    const { file } = await expectRoundTrip(header, chunks, { max: 37, seed: 3 });
    expect(file.subarray(0, 8).toString('latin1')).toBe('VSNAPBIN');
    expect(file.readUInt32LE(8)).toBe(1);
    await expectRoundTrip(header, chunks, 1);
    await expectRoundTrip(header, chunks, file.length);
  });

  it('writes and reads an empty dataset (no entries, empty chunks skipped)', async () => {
    const header = headerFor(3, 0);
    const empty: EntryChunk = { ids: [], vectors: new Float32Array(0), metadata: [] };
    const { summary, decoded } = await expectRoundTrip(header, [empty], 1);
    expect(decoded.list).toEqual([]);
    expect(summary).toEqual({ count: 0, contentChecksum: new ContentDigest(3).digest() });
    const viaNothing = await encode(header, []);
    expect(viaNothing.summary.contentChecksum).toBe(summary.contentChecksum);
  });

  it('round-trips 10,000 × 384 vectors, splitting big chunks into records of at most ~8 MiB', async () => {
    const chunks = makeChunks(10_000, 384, 10_000, 7);
    const { file, decoded } = await expectRoundTrip(headerFor(384, 10_000), chunks, { max: 1 << 20, seed: 11 });
    const { pieces } = await encode(headerFor(384, 10_000), chunks);
    // 8 MiB / (384 × 4 B) = 5461 entries per record; each record is its framing + a vector view.
    expect(decoded.list.map((c) => c.ids.length)).toEqual([5461, 10_000 - 5461]);
    expect(pieces.length).toBe(2 + 2 * decoded.list.length);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(8 * 2 ** 20);
    expect(file.length).toBeGreaterThan(10_000 * 384 * 4);
  });

  it('keeps special float values bit-exact (-0, subnormals, ±max float32)', async () => {
    const dimension = SPECIAL.length;
    const vectors = new Float32Array(3 * dimension);
    vectors.set(SPECIAL, 0);
    vectors.set(SPECIAL.map((x) => -x), dimension);
    vectors.set([...SPECIAL].reverse(), 2 * dimension);
    const chunk: EntryChunk = { ids: ['東京-🚀', 'a', 'b'], vectors, metadata: [undefined, { x: null }, {}] };
    const { decoded } = await expectRoundTrip(headerFor(dimension, 3), [chunk], 5);
    expect(Object.is(decoded.list[0]!.vectors[0], -0)).toBe(true);
    expect(bytes(decoded.list[0]!.vectors).equals(bytes(vectors))).toBe(true);
  });

  it('keeps own "__proto__" keys of JSON-parsed metadata (which msgpack maps would rename)', async () => {
    const text = '{"__proto__":{"polluted":true},"b":[{"__proto__":1}],"c":"\\"__proto__\\": in a string"}';
    const headerMeta = JSON.parse('{"__proto__":{"x":1},"name":"h"}') as Metadata;
    const chunk: EntryChunk = {
      ids: ['p', 'q', 'r'],
      vectors: new Float32Array([1, 2, 3, 4, 5, 6]),
      metadata: [JSON.parse(text) as Metadata, { plain: true }, undefined],
    };
    const { decoded } = await expectRoundTrip(headerFor(2, 3, headerMeta), [chunk], 3);
    const got = decoded.list[0]!.metadata;
    expect(Object.keys(got[0]!)).toEqual(['__proto__', 'b', 'c']);
    expect(JSON.stringify(got[0])).toBe(text);
    expect(Object.keys(decoded.header.metadata!)).toEqual(['__proto__', 'name']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('stores a content checksum that does not depend on chunking and matches ContentDigest', async () => {
    const a = await encode(headerFor(16, 300), makeChunks(300, 16, 7));
    const b = await encode(headerFor(16, 300), makeChunks(300, 16, 1000));
    const digest = new ContentDigest(16);
    for (const chunk of makeChunks(300, 16, 300)) digest.update(chunk);
    expect(a.summary.contentChecksum).toBe(digest.digest());
    expect(b.summary.contentChecksum).toBe(a.summary.contentChecksum);
  });

  it('yields buffers the consumer may keep: none is changed after it was yielded', async () => {
    // 40 × 4 floats are merged into their record; 20 × 2048 floats (160 KiB) go out as views.
    for (const [count, dimension] of [
      [40, 4],
      [20, 2048],
    ] as const) {
      const chunks = makeChunks(count, dimension, 5);
      const kept: Buffer[] = [];
      const copies: Buffer[] = [];
      const summary: EncodeSummary = { count: 0, contentChecksum: '' };
      for await (const piece of binaryCodec.encode(headerFor(dimension, count), chunks, summary)) {
        kept.push(piece);
        copies.push(Buffer.from(piece));
      }
      kept.forEach((piece, i) => expect(piece.equals(copies[i]!)).toBe(true));
      const decoded = await decode(Buffer.concat(kept));
      expect(flat(decoded.list).vectors.equals(flat(chunks).vectors)).toBe(true);
    }
  });

  it('refills one vector array per size when the consumer copies each block (reuseVectors), and the data stays exact', async () => {
    // 3 × 5461 full records of 8 MiB and a shorter last one.
    const count = 3 * 5461 + 100;
    const chunks = makeChunks(count, 384, count, 21);
    const { file, summary } = await encode(headerFor(384, count), chunks);
    const dataset = await binaryCodec.decode(feed(file, { max: 1 << 20, seed: 5 }), { reuseVectors: true });
    const arrays: Float32Array[] = [];
    const copies: Buffer[] = [];
    for await (const chunk of dataset.chunks) {
      arrays.push(chunk.vectors);
      copies.push(Buffer.from(bytes(chunk.vectors)));
    }
    expect(arrays.map((a) => a.length / 384)).toEqual([5461, 5461, 5461, 100]);
    expect(arrays[1]).toBe(arrays[0]);
    expect(arrays[2]).toBe(arrays[0]);
    expect(arrays[3]).not.toBe(arrays[0]);
    expect(Buffer.concat(copies).equals(flat(chunks).vectors)).toBe(true);
    expect(dataset.storedChecksum()).toBe(summary.contentChecksum);
    // Without the option every block owns its array (callers may keep them).
    const plain = await decode(file);
    expect(new Set(plain.list.map((c) => c.vectors)).size).toBe(4);
  });

  it('returns the header before reading the body', async () => {
    const { file } = await encode(headerFor(64, 2000, { name: 'snap' }), makeChunks(2000, 64));
    let pulled = 0;
    const input = (async function* () {
      for await (const piece of feed(file, 256)) {
        pulled += piece.length;
        yield piece;
      }
    })();
    const dataset = await binaryCodec.decode(input);
    expect(dataset.header).toEqual(headerFor(64, 2000, { name: 'snap' }));
    expect(pulled).toBeLessThanOrEqual(256);
    expect(dataset.storedChecksum()).toBeUndefined();
  });
});

describe('binaryCodec damage and errors', () => {
  it('reports truncation at every offset of a tiny file as CORRUPT_FILE', async () => {
    const { file } = await encode(headerFor(4, 3, { m: 1 }), makeChunks(3, 4, 2));
    for (let end = 0; end < file.length; end++) {
      const piece = file.subarray(0, end);
      await expect(decode(piece, {}, 3), `cut at ${end}`).rejects.toMatchObject({
        code: 'CORRUPT_FILE',
        message: expect.stringMatching(/truncated/),
      });
    }
    expect(await outcome(file, {}, 3)).toBe('ok');
  });

  it('reports truncation at sampled offsets of a bigger file as CORRUPT_FILE', async () => {
    const { file } = await encode(headerFor(32, 500), makeChunks(500, 32, 64));
    const rand = rng(5);
    const cuts = [1, 11, 12, 15, 16, file.length - 1, file.length - 2, ...Array.from({ length: 40 }, () => Math.floor(rand() * file.length))];
    for (const end of cuts) expect(await outcome(file.subarray(0, end), {}, { max: 4096, seed: end }), `cut at ${end}`).toBe('CORRUPT_FILE');
  });

  it('detects a flipped byte in a vector block (CHECKSUM_MISMATCH), and skips the check when asked', async () => {
    const { file, pieces, summary } = await encode(headerFor(8, 20), makeChunks(20, 8, 10));
    const damaged = Buffer.from(file);
    const at = pieces[0]!.length + pieces[1]!.length - 13; // inside the first chunk's vectors
    damaged[at]! ^= 0x40;
    await expect(decode(damaged)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH', message: expect.stringMatching(/checksum/) });
    const unchecked = await decode(damaged, { verifyChecksum: false });
    expect(unchecked.stored).toBe(summary.contentChecksum);
    expect(flat(unchecked.list).vectors.equals(flat(makeChunks(20, 8, 10)).vectors)).toBe(false);
  });

  it('rejects a wrong magic as UNSUPPORTED_FORMAT', async () => {
    const { file } = await encode(headerFor(4, 3), makeChunks(3, 4));
    const damaged = Buffer.from(file);
    damaged[2] = 0x00;
    expect(await outcome(damaged)).toBe('UNSUPPORTED_FORMAT');
    expect(await outcome(Buffer.from('{"version":"1.0.0"}'))).toBe('UNSUPPORTED_FORMAT');
    expect(await outcome(Buffer.from('VS!'))).toBe('UNSUPPORTED_FORMAT');
  });

  it('rejects another format version as VERSION_UNSUPPORTED, naming it', async () => {
    const { file } = await encode(headerFor(4, 3), makeChunks(3, 4));
    const future = Buffer.from(file);
    future.writeUInt32LE(99, 8);
    await expect(decode(future)).rejects.toMatchObject({ code: 'VERSION_UNSUPPORTED', message: expect.stringMatching(/99/) });
  });

  it('rejects bytes after the trailer as CORRUPT_FILE', async () => {
    const { file } = await encode(headerFor(4, 3), makeChunks(3, 4));
    expect(await outcome(Buffer.concat([file, Buffer.from([0])]))).toBe('CORRUPT_FILE');
    expect(await outcome(Buffer.concat([file, file]), {}, 7)).toBe('CORRUPT_FILE');
  });

  it('rejects damaged structure as CORRUPT_FILE, never a raw error', async () => {
    const header = { dimension: 2, metric: 'dot', count: 1, createdAt: 1 };
    const chunk = (n: number, value: unknown, vectorBytes: number) =>
      Buffer.concat([Buffer.from('C'), u32(n), record(value), Buffer.alloc(vectorBytes)]);
    const good = chunk(1, { ids: ['a'], metadata: [null] }, 8);
    const checksum = (await encode(headerFor(2, 1), [{ ids: ['a'], vectors: new Float32Array(2), metadata: [undefined] }])).summary
      .contentChecksum;
    const trailer = { count: 1, contentChecksum: checksum };
    expect(await outcome(handMade({ ...header, metric: 'dot' }, [good], trailer))).toBe('ok');

    const cases: [string, Buffer][] = [
      ['dimension 0', handMade({ ...header, dimension: 0 }, [good], trailer)],
      ['dimension 2.5', handMade({ ...header, dimension: 2.5 }, [good], trailer)],
      ['unknown metric', handMade({ ...header, metric: 'manhattan' }, [good], trailer)],
      ['header not a map', handMade([1, 2], [good], trailer)],
      ['undecodable header', Buffer.concat([BINARY_MAGIC, u32(1), u32(1), Buffer.from([0xc1]), good])],
      ['absurd header length', Buffer.concat([BINARY_MAGIC, u32(1), u32(0xffffffff), Buffer.alloc(64)])],
      ['wrong tag', handMade(header, [Buffer.from('X'), good], trailer)],
      ['n disagrees with ids', handMade(header, [chunk(2, { ids: ['a'], metadata: [null] }, 16)], { ...trailer, count: 2 })],
      ['absurd n', handMade(header, [chunk(0xffffffff, { ids: ['a'], metadata: [null] }, 8)], trailer)],
      ['id not a string', handMade(header, [chunk(1, { ids: [7], metadata: [null] }, 8)], trailer)],
      ['metadata an array', handMade(header, [chunk(1, { ids: ['a'], metadata: [[1]] }, 8)], trailer)],
      ['trailer count wrong', handMade(header, [good], { ...trailer, count: 2 })],
      ['trailer without checksum', handMade(header, [good], { count: 1 })],
      ['undecodable trailer', Buffer.concat([handMade(header, [good]), Buffer.from('T'), u32(1), Buffer.from([0xc1])])],
      ['no trailer', handMade(header, [good])],
    ];
    for (const [name, file] of cases) {
      const result = await outcome(file, {}, 5);
      expect(`${name}: ${result}`).toBe(`${name}: CORRUPT_FILE`);
    }
  });

  it('passes errors of the input through unchanged and closes the input when reading stops early', async () => {
    const { file } = await encode(headerFor(4, 30), makeChunks(30, 4, 5));
    const failure = new Error('disk went away');
    const failing = (async function* () {
      yield file.subarray(0, 200);
      throw failure;
    })();
    const dataset = await binaryCodec.decode(failing);
    await expect(
      (async () => {
        for await (const _ of dataset.chunks) void _;
      })(),
    ).rejects.toBe(failure);

    let closed = false;
    const input = (async function* () {
      try {
        yield* feed(file, 16);
      } finally {
        closed = true;
      }
    })();
    const early = await binaryCodec.decode(input);
    for await (const _ of early.chunks) break;
    expect(closed).toBe(true);
  });

  it('stops encoding with ABORTED when the signal fires between chunks', async () => {
    const controller = new AbortController();
    const source = function* () {
      const chunks = makeChunks(100, 8, 10);
      for (let i = 0; i < chunks.length; i++) {
        if (i === 3) controller.abort();
        yield chunks[i]!;
      }
    };
    await expect(encode(headerFor(8, 100), source(), controller.signal)).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(encode(headerFor(8, 100), makeChunks(100, 8), AbortSignal.abort())).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('stops decoding with ABORTED when the signal fires between chunks', async () => {
    const { file } = await encode(headerFor(8, 100), makeChunks(100, 8, 10));
    const controller = new AbortController();
    const dataset = await binaryCodec.decode(feed(file, 100), { signal: controller.signal });
    const read = async () => {
      let n = 0;
      for await (const _ of dataset.chunks) if (++n === 2) controller.abort();
    };
    await expect(read()).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('refuses to write what it could not read back', async () => {
    const bad = (ids: string[], vectors: Float32Array, metadata: (Metadata | undefined)[]) =>
      encode(headerFor(2, ids.length), [{ ids, vectors, metadata }]);
    await expect(bad(['a'], new Float32Array(3), [undefined])).rejects.toMatchObject({ code: 'DIMENSION_MISMATCH' });
    await expect(bad(['a', 'b'], new Float32Array(4), [undefined])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(bad(['ok', 'lone\uD800'], new Float32Array(4), [undefined, undefined])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(encode({ ...headerFor(2, 0), dimension: 0 }, [])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('entry metadata on the wire', () => {
  const vectors = new Float32Array([1, 2, 3, 4, 5, 6]);
  const metadata: (Metadata | undefined)[] = [{ b: 1, a: [true, null, 'x'] }, undefined, { deep: { k: 'Grüße' } }];
  const chunk: EntryChunk = { ids: ['p', 'q', 'r'], vectors, metadata };
  const digest = (): string => {
    const d = new ContentDigest(2);
    d.update(chunk);
    return d.digest();
  };

  it('is written as JSON text (one string per entry, null for none)', async () => {
    const { file } = await expectRoundTrip(headerFor(2, 3), [chunk], 7);
    // The block record follows the header: 'C', n, length, msgpack{ ids, metadata }.
    const headerLength = file.readUInt32LE(12);
    const at = 16 + headerLength;
    expect(file[at]).toBe(0x43);
    const body = file.subarray(at + 9, at + 9 + file.readUInt32LE(at + 5));
    expect(packr.unpack(body)).toEqual({ ids: ['p', 'q', 'r'], metadata: ['{"b":1,"a":[true,null,"x"]}', null, '{"deep":{"k":"Grüße"}}'] });
  });

  it('as msgpack maps (how earlier files stored it) still loads, and its content checksum verifies', async () => {
    const block = Buffer.concat([Buffer.from('C'), u32(3), record({ ids: chunk.ids, metadata: [metadata[0], null, metadata[2]] }), bytes(vectors)]);
    const file = handMade({ dimension: 2, metric: 'cosine', count: 3, createdAt: 1 }, [block], { count: 3, contentChecksum: digest() });
    const decoded = await decode(file, undefined, 5);
    expect(decoded.list[0]!.metadata).toEqual(metadata);
    // A changed map is caught by the checksum, exactly as with text.
    const tampered = handMade(
      { dimension: 2, metric: 'cosine', count: 3, createdAt: 1 },
      [Buffer.concat([Buffer.from('C'), u32(3), record({ ids: chunk.ids, metadata: [{ b: 2, a: [true, null, 'x'] }, null, metadata[2]] }), bytes(vectors)])],
      { count: 3, contentChecksum: digest() },
    );
    expect(await outcome(tampered)).toBe('CHECKSUM_MISMATCH');
  });

  it('a stored text that differs from what was hashed fails the checksum, even when it parses to the same object', async () => {
    const block = Buffer.concat([Buffer.from('C'), u32(3), record({ ids: chunk.ids, metadata: ['{"b":1.0,"a":[true,null,"x"]}', null, '{"deep":{"k":"Grüße"}}'] }), bytes(vectors)]);
    const file = handMade({ dimension: 2, metric: 'cosine', count: 3, createdAt: 1 }, [block], { count: 3, contentChecksum: digest() });
    expect(await outcome(file)).toBe('CHECKSUM_MISMATCH');
    expect(await outcome(file, { verifyChecksum: false })).toBe('ok');
  });
});
