import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rng } from '../test-helpers/fixtures.js';
import {
  type Entry,
  SPECIAL,
  threadUp,
  bytes,
  makeEntries,
  toChunks,
  headerFor,
  encode,
  split,
  decode,
  expectSameEntries,
  codeOf,
  errorOf,
} from '../test-helpers/json-codec.js';
import type { DecodeOptions, EncodeSummary } from './codec.js';
import { jsonCodec, jsonDecodeTuning, jsonEncodeTuning } from './json.js';
import { parseFloat32Array, writeFloat32Array } from './json-scanner.js';

/** The text with the first digit 1–8 at or after `from` raised by one (a real change of value). */
function bumpDigit(text: string, from: number): Buffer {
  const at = text.slice(from).search(/[1-8]/) + from;
  return Buffer.from(text.slice(0, at) + (Number(text[at]) + 1) + text.slice(at + 1));
}

const drain = async (file: Buffer, options?: DecodeOptions) => decode(file, options);

for (const threaded of [false, true]) {
  describe(threaded ? 'with the number thread' : 'on one thread', () => {
    const defaultMin = [jsonDecodeTuning.threadMinValues, jsonEncodeTuning.threadMinValues] as const;
    beforeAll(async () => {
      jsonDecodeTuning.threadMinValues = threaded ? 0 : Number.POSITIVE_INFINITY;
      jsonEncodeTuning.threadMinValues = threaded ? 0 : Number.POSITIVE_INFINITY;
      // Until the thread has started, the codec does its work on this one (as on a first save or load).
      if (threaded) await threadUp();
    });
    afterAll(() => {
      [jsonDecodeTuning.threadMinValues, jsonEncodeTuning.threadMinValues] = defaultMin;
    });

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

      it('refuses a file whose "format" member was damaged (it must not lose its checks by reading as legacy)', async () => {
        const file = await ourFile();
        const at = file.indexOf('vecsnap-json');
        expect(at).toBeGreaterThan(0);
        for (const offset of [0, 7, 11]) {
          const damaged = Buffer.from(file);
          damaged[at + offset]! ^= 0x01;
          expect(await codeOf(() => drain(damaged)), `bit flipped at ${offset}`).toBe('CORRUPT_FILE');
        }
        // A file of the original module has no "format" member at all, and still reads as legacy.
        const legacy = Buffer.from(JSON.stringify({ version: '1.0.0', options: { dimension: 2 }, vectors: [{ id: 'a', vector: [1, 2] }] }));
        expect((await drain(legacy)).dataset.legacy).toBe(true);
      });

      it('refuses a file of ours whose trailer lost its content checksum (nothing would be checked)', async () => {
        const file = (await ourFile()).toString('latin1');
        const at = file.lastIndexOf('"contentChecksum"');
        expect(at).toBeGreaterThan(0);
        // The member's name damaged by one bit, and the member cut off the trailer.
        const renamed = Buffer.from(file, 'latin1');
        renamed[at + 1]! ^= 0x01;
        const cut = Buffer.from(file.slice(0, at - 1) + '}\n', 'latin1');
        for (const damaged of [renamed, cut]) {
          expect(await codeOf(() => drain(damaged))).toBe('CORRUPT_FILE');
          // Unverified reads still take it: the caller asked for no checks.
          expect((await drain(damaged, { verifyChecksum: false })).entries).toHaveLength(entries.length);
        }
      });

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

    describe('json codec: number parsing (bit-exact against JSON.parse)', () => {
      /** Random float32 values: every exponent (subnormals included) with random mantissas, and specials. */
      function randomFloats(count: number, seed: number): Float32Array {
        const rand = rng(seed);
        const u = new Uint32Array(count);
        for (let k = 0; k < count; k++) {
          const exp = k % 3 === 0 ? Math.floor(rand() * 255) : 100 + Math.floor(rand() * 30); // common range mostly
          u[k] = (exp << 23) | Math.floor(rand() * 0x800000) | (rand() < 0.5 ? 0x80000000 : 0);
        }
        const f = new Float32Array(u.buffer);
        const extra = [...SPECIAL, -0, 1e-7, 3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, -1.401298464324817e-45];
        extra.forEach((v, k) => (f[k * 5] = v));
        return f;
      }

      /** Parses `[texts]` placed at the start of a longer buffer (word reads) and at its very end (byte reads). */
      function parseBoth(texts: string[]): { head: Float32Array | number; tail: Float32Array | number } {
        const array = `[${texts.join(',')}]`;
        const head = Buffer.from(array + ',1234567890123456789'.repeat(2));
        const tail = Buffer.concat([Buffer.from('01234567890123456789'), Buffer.from(array)]);
        const a = new Float32Array(texts.length);
        const b = new Float32Array(texts.length);
        const endA = parseFloat32Array(head, 0, a, 0, texts.length);
        const endB = parseFloat32Array(tail, 20, b, 0, texts.length);
        return {
          head: endA === array.length ? a : endA,
          tail: endB === tail.length ? b : endB,
        };
      }

      it('parses the numbers it writes, and other JSON number texts, bit for bit like Math.fround(JSON.parse)', () => {
        const values = randomFloats(60_000, 21);
        const out = Buffer.alloc(values.length * 26);
        const n = writeFloat32Array(out, 0, values, 0, values.length);
        const written = out.toString('latin1', 0, n).split(',');
        const rand = rng(22);
        const other: string[] = [];
        for (let k = 0; k < 20_000; k++) {
          const x = (rand() - 0.5) * 10 ** Math.floor(rand() * 12 - 6);
          const digits = 1 + Math.floor(rand() * 16);
          other.push(x.toFixed(Math.min(20, digits)), x.toPrecision(digits), x.toExponential(digits - 1).toUpperCase(), String(x));
        }
        other.push('0', '-0', '0.0', '-0.000', '1e0', '1E+2', '5e-324', '1e-46', '7e-46', '0.1e1', '123456789012345678901234567890');
        other.push('0.1', '0.12', '0.123', '0.1234', '0.12345', '0.123456', '0.1234567', '0.12345678', '0.123456789');
        other.push('0.1234567890', '0.12345678901', '0.123456789012', '0.1234567890123', '0.12345678901234567890123');
        other.push('9.99999905104687e-8', '3.4028235677973362e38', '1.1754943508222875e-38', '-1.1754942106924411e-38');
        for (const texts of [written, other]) {
          const expected = Float32Array.from(JSON.parse(`[${texts.join(',')}]`) as number[]);
          const { head, tail } = parseBoth(texts);
          for (const got of [head, tail]) {
            expect(got).toBeInstanceOf(Float32Array);
            const g = new Uint32Array((got as Float32Array).buffer);
            const e = new Uint32Array(expected.buffer);
            const wrong = [];
            for (let k = 0; k < e.length; k++) if (g[k] !== e[k]) wrong.push(`${texts[k]} → ${(got as Float32Array)[k]}`);
            expect(wrong.slice(0, 10)).toEqual([]);
          }
        }
        // One by one, with every possible kind of byte after the number (word reads see them).
        for (const text of ['0.25', '-0.0123456', '1.5e-7', '0.12345678', '-0.123456789012']) {
          for (const after of [',', ']']) {
            const buf = Buffer.from(`[${text}${after}${after === ',' ? '0]' : ''}9999999999999`);
            const got = new Float32Array(2);
            const dim = after === ',' ? 2 : 1;
            expect(parseFloat32Array(buf, 0, got, 0, dim)).toBe(buf.indexOf(']') + 1);
            expect(Object.is(got[0], Math.fround(Number(text)))).toBe(true);
          }
        }
      });

      it('refuses what is not a plain JSON number array (the caller falls back to JSON.parse)', () => {
        const bad = ['0.', '1.e5', '-', '01', '1.5e', '1.5e+', '0.1x', ' 0.1', '0.1 ', '+1', '.5', '0x10', '1_0', 'NaN', '1e39', '-4e38', '0.12345678a9', '0.1234567,'];
        for (const text of bad) {
          const { head, tail } = parseBoth([text]);
          expect([text, head]).toEqual([text, -1]);
          expect([text, tail]).toEqual([text, -1]);
        }
        // wrong counts, and a buffer that ends before "]"
        const f = new Float32Array(4);
        expect(parseFloat32Array(Buffer.from('[0.1234567,0.25]' + ' '.repeat(20)), 0, f, 0, 3)).toBe(-1);
        expect(parseFloat32Array(Buffer.from('[0.1234567,0.25,0.5]' + ' '.repeat(20)), 0, f, 0, 2)).toBe(-1);
        expect(parseFloat32Array(Buffer.from('[0.123456789012,0.25'), 0, f, 0, 2)).toBe(-1);
        expect(parseFloat32Array(Buffer.from('[]' + ' '.repeat(20)), 0, f, 0, 0)).toBe(2);
      });

      it('decodes a file split into two pieces at every byte offset', async () => {
        const dim = 6;
        const values = randomFloats(5 * dim, 23);
        const entries: Entry[] = [];
        for (let i = 0; i < 5; i++) {
          const vector = values.slice(i * dim, (i + 1) * dim);
          entries.push(i % 2 ? { id: `e${i}`, vector, metadata: { doc: `doc-${i}`, chunk: i, tags: ['a'] } } : { id: `é"${i}`, vector });
        }
        const { file } = await encode(headerFor(dim, entries.length), toChunks(entries, dim, 2));
        const text = file.toString('utf8');
        const fromJson = JSON.parse(text) as { vectors: { vector: number[] }[] };
        const expected = Float32Array.from(fromJson.vectors.flatMap((e) => e.vector));
        expect(bytes(expected).equals(bytes(values))).toBe(true);
        for (let at = 0; at <= file.length; at++) {
          const pieces = async function* () {
            yield file.subarray(0, at);
            yield file.subarray(at);
          };
          const { entries: back } = await decode(pieces());
          expectSameEntries(back, entries);
        }
      });

      it('reads random float32 values (subnormals, -0, extremes) through the decoder bit for bit', async () => {
        const dim = 64;
        const count = 300;
        const values = randomFloats(count * dim, 24);
        const entries: Entry[] = [];
        for (let i = 0; i < count; i++) entries.push({ id: `v${i}`, vector: values.slice(i * dim, (i + 1) * dim), metadata: { n: i } });
        const { file } = await encode(headerFor(dim, count), toChunks(entries, dim, 50));
        const fromJson = JSON.parse(file.toString('utf8')) as { vectors: { vector: number[] }[] };
        const expected = Float32Array.from(fromJson.vectors.flatMap((e) => e.vector));
        for (const size of [7, 4096, { max: 3000, seed: 5 }]) {
          const { entries: back } = await decode(file, {}, size);
          const got = new Float32Array(count * dim);
          back.forEach((e, i) => got.set(e.vector, i * dim));
          expect(bytes(got).equals(bytes(expected))).toBe(true);
          expectSameEntries(back, entries);
        }
      });

      it('reports the first damaged entry in file order, across chunks, and reads reformatted vectors exactly', async () => {
        const dim = 4;
        const count = 5000;
        const values = randomFloats(count * dim, 25).map((x) => Math.fround(x / 2));
        const entries: Entry[] = [];
        for (let i = 0; i < count; i++) entries.push({ id: `v${i}`, vector: values.slice(i * dim, (i + 1) * dim), metadata: { n: i } });
        const { file } = await encode(headerFor(dim, count), toChunks(entries, dim, 1000));
        const lines = file.toString('utf8').split('\n');
        const line = (i: number) => lines.findIndex((l) => l.startsWith(`{"id":"v${i}",`));
        const withVector = (i: number, edit: (vector: string) => string) => {
          const copy = [...lines];
          const at = line(i);
          copy[at] = copy[at]!.replace(/"vector":\[[^\]]*\]/, (m) => `"vector":${edit(m.slice(9))}`);
          return copy;
        };
        const read = (text: string[]) => drain(Buffer.from(text.join('\n')));
        // A non-finite component at entry 100 and broken JSON at entry 3000: entry 100 is reported.
        let text = withVector(100, (v) => v.replace(/^\[[^,]*/, '[1e99'));
        text[line(3000)] = text[line(3000)]!.replace('"metadata":{', '"metadata":{{');
        let err = await errorOf(() => read(text));
        expect([err.code, err.message.includes('"v100"')]).toEqual(['INVALID_VECTOR', true]);
        // The broken JSON alone.
        text = [...lines];
        text[line(3000)] = text[line(3000)]!.replace('"metadata":{', '"metadata":{{');
        expect(await codeOf(() => read(text))).toBe('CORRUPT_FILE');
        // A short vector at entry 2500 before broken JSON at 2600; a nested array; a string component.
        text = withVector(2500, (v) => v.replace(/,[^,]*\]$/, ']'));
        text[line(2600)] = text[line(2600)]!.replace('"metadata":{', '"metadata":{{');
        expect(await codeOf(() => read(text))).toBe('DIMENSION_MISMATCH');
        expect(await codeOf(() => read(withVector(1, (v) => v.replace(/^\[[^,]*/, '[[1]'))))).toBe('INVALID_VECTOR');
        expect(await codeOf(() => read(withVector(4999, (v) => v.replace(/^\[[^,]*/, '["1"'))))).toBe('INVALID_VECTOR');
        expect(await codeOf(() => read(withVector(2047, (v) => v.replace(/,/, ',,'))))).toBe('CORRUPT_FILE');
        // Whitespace and other spellings inside some vectors: read through JSON.parse, same bits.
        text = [...lines];
        for (const i of [0, 1, 2047, 2048, 4096, 4999]) {
          text = text.map((l, k) => (k === line(i) ? l.replace(/"vector":\[([^\]]*)\]/, (_m, v: string) => `"vector":[ ${v.split(',').join(' , ')} ]`) : l));
        }
        text[line(7)] = text[line(7)]!.replace(/"vector":\[([^\]]*)\]/, (_m, v: string) => `"vector":[${v.split(',').map((x) => Number(x).toExponential(20)).join(',')}]`);
        const { entries: back } = await read(text);
        expectSameEntries(back, entries);
      });
    });
  });
}
