import { createHash, type Hash } from 'node:crypto';
import { VecSnapError, throwIfAborted } from '../errors.js';
import type { DatasetHeader, EntryChunk, Metadata, Metric } from '../types.js';
import { METRICS } from '../types.js';
import type { ChunkSource, DecodeOptions, DecodedDataset, EncodeSummary, StreamCodec } from './codec.js';
import { ContentDigest, jsonOrUndefined } from './content-digest.js';
import { JsonScanner, corruptJson } from './json-scanner.js';

/**
 * VecSnap JSON: a superset of the original module's `DatabaseState`, header keys before
 * `vectors`, one entry per line, and the content checksum after the array:
 *   {"version":"1.0.0","format":"vecsnap-json","formatVersion":1,"options":{…},"stats":{…},
 *    "createdAt":…,"timestamp":…,"metadata":{…},"vectors":[
 *   {"id":"a","vector":[…],"metadata":{…}},
 *   …
 *   ],"count":N,"contentChecksum":"…"}
 */
const FORMAT_NAME = 'vecsnap-json';
const VERSION = 1;
const FLUSH_BYTES = 1 << 20;
const ENTRIES_PER_CHUNK = 2048;

/** Exact for float32: the shortest double text of the value parses back to the same double. */
function floatText(v: number): string {
  return v === 0 && 1 / v < 0 ? '-0' : String(v);
}

async function* encode(
  header: DatasetHeader,
  chunks: ChunkSource,
  summary: EncodeSummary,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  const { dimension, metric } = header;
  const head: Record<string, unknown> = {
    version: '1.0.0',
    format: FORMAT_NAME,
    formatVersion: VERSION,
    options: { dimension, metric },
    stats: { count: header.count, dimension, metric },
    createdAt: header.createdAt,
    timestamp: header.createdAt,
  };
  if (header.metadata !== undefined) head.metadata = header.metadata;
  let text = JSON.stringify(head).slice(0, -1) + ',"vectors":[\n';
  const digest = new ContentDigest(dimension);
  let count = 0;
  for await (const chunk of chunks) {
    throwIfAborted(signal, 'Writing the JSON file');
    const n = chunk.ids.length;
    if (chunk.vectors.length !== n * dimension) {
      throw new VecSnapError('DIMENSION_MISMATCH', `A block of ${n} vectors does not have dimension ${dimension}.`);
    }
    const json = chunk.metadata.map(jsonOrUndefined);
    digest.update(chunk, json);
    const v = chunk.vectors;
    for (let i = 0; i < n; i++) {
      let line = (count === 0 ? '' : ',\n') + '{"id":' + JSON.stringify(chunk.ids[i]) + ',"vector":[';
      const base = i * dimension;
      for (let j = 0; j < dimension; j++) line += (j === 0 ? '' : ',') + floatText(v[base + j]!);
      line += json[i] === undefined ? ']}' : '],"metadata":' + json[i] + '}';
      text += line;
      count++;
      if (text.length >= FLUSH_BYTES) {
        yield Buffer.from(text, 'utf8');
        text = '';
      }
    }
  }
  summary.count = count;
  summary.contentChecksum = digest.digest();
  text += `\n],"count":${count},"contentChecksum":"${summary.contentChecksum}"}\n`;
  yield Buffer.from(text, 'utf8');
}

/**
 * The original's `checksum` is SHA-256 of JSON.stringify(state without checksum). For a compact
 * file that is its own bytes with the `,"checksum":"…"` member cut out, so it can be verified
 * while streaming: bytes are hashed as the scanner lets go of them, holding back from each
 * top-level comma until the key after it is known.
 */
class LegacyHasher {
  private readonly hash: Hash = createHash('sha256');
  private holdAt = Infinity;
  private pending: Buffer[] = [];
  private skipStart = Infinity;
  private skipEnd = Infinity;
  private limit = Infinity;
  usable = true;

  feed(bytes: Buffer, absStart: number): void {
    const end = Math.min(absStart + bytes.length, this.limit);
    // Hash [absStart, end) minus the skipped checksum member.
    this.take(bytes, absStart, absStart, Math.min(end, this.skipStart));
    this.take(bytes, absStart, Math.max(absStart, this.skipEnd), end);
  }

  private take(bytes: Buffer, absStart: number, from: number, to: number): void {
    if (to <= from) return;
    const free = Math.min(to, this.holdAt);
    if (free > from) this.hash.update(bytes.subarray(from - absStart, free - absStart));
    if (to > free) this.pending.push(bytes.subarray(Math.max(from, free) - absStart, to - absStart));
  }

  hold(abs: number): void {
    this.holdAt = abs;
  }

  release(): void {
    this.holdAt = Infinity;
    for (const p of this.pending) this.hash.update(p);
    this.pending = [];
  }

  /** The held member is the checksum: drop it (comma included) up to `abs`. */
  skipUntil(abs: number): void {
    this.skipStart = this.holdAt;
    this.skipEnd = abs;
    this.holdAt = Infinity;
    this.pending = [];
  }

  endAt(abs: number): void {
    this.limit = abs;
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

function headerFrom(members: Map<string, unknown>, firstVectorLength: number | undefined): DatasetHeader {
  const options = (members.get('options') ?? {}) as Record<string, unknown>;
  const stats = (members.get('stats') ?? {}) as Record<string, unknown>;
  const dim = options.dimension ?? stats.dimension ?? firstVectorLength;
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1 || dim > 65536) {
    throw corruptJson(`it has no valid dimension (options.dimension is ${String(options.dimension)})`);
  }
  const metric = (options.metric ?? stats.metric ?? 'cosine') as Metric;
  if (!METRICS.includes(metric)) throw corruptJson(`its metric "${String(metric)}" is unknown`);
  const count = typeof stats.count === 'number' && Number.isInteger(stats.count) && stats.count >= 0 ? stats.count : 0;
  const created = members.get('createdAt') ?? members.get('timestamp');
  const header: DatasetHeader = { dimension: dim, metric, count, createdAt: typeof created === 'number' ? created : 0 };
  const metadata = members.get('metadata');
  if (typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)) header.metadata = metadata as Metadata;
  return header;
}

function parseSlice(scanner: JsonScanner, start: number, end: number): unknown {
  const text = scanner.buf.toString('utf8', start, end);
  try {
    return JSON.parse(text);
  } catch {
    throw corruptJson(`invalid JSON near byte ${scanner.base + start}`);
  }
}

async function decode(input: AsyncIterable<Buffer>, options: DecodeOptions = {}): Promise<DecodedDataset> {
  const legacyHash = new LegacyHasher();
  const scanner = new JsonScanner(input, (bytes, abs) => legacyHash.feed(bytes, abs));
  const verify = options.verifyChecksum ?? true;
  // Skip a UTF-8 byte order mark.
  while (scanner.buf.length < 3 && (await scanner.more(0)));
  if (scanner.buf[0] === 0xef && scanner.buf[1] === 0xbb && scanner.buf[2] === 0xbf) {
    scanner.pos = 3;
    legacyHash.usable = false;
  }
  if ((await scanner.peek()) !== 0x7b) {
    await scanner.close();
    throw new VecSnapError('UNSUPPORTED_FORMAT', 'The file is not JSON: it does not start with "{".');
  }
  scanner.pos++;
  const members = new Map<string, unknown>();

  /** Reads `"key":`, handling the legacy hash hold; returns the key. */
  const readKey = async (afterComma: boolean): Promise<string> => {
    const [s, e] = await scanner.value();
    const key = parseSlice(scanner, s, e);
    if (typeof key !== 'string') throw corruptJson(`expected a key at byte ${scanner.base + s}`);
    await scanner.expect(0x3a, '":"');
    if (key === 'checksum' && !afterComma) legacyHash.usable = false;
    if (key !== 'checksum') legacyHash.release();
    return key;
  };
  /** After a member: `,` (hold the hash, return true) or `}` (return false). */
  const nextMember = async (): Promise<boolean> => {
    const c = await scanner.peek();
    if (c === 0x2c) {
      legacyHash.hold(scanner.absolute);
      scanner.pos++;
      return true;
    }
    if (c === 0x7d) return false;
    if (c === -1) throw corruptJson('it is truncated');
    throw corruptJson(`expected "," or "}" at byte ${scanner.absolute}`);
  };
  const readMember = async (key: string): Promise<void> => {
    const [s, e] = await scanner.value();
    members.set(key, parseSlice(scanner, s, e));
    if (key === 'checksum') legacyHash.skipUntil(scanner.base + e);
  };

  let foundVectors = false;
  if ((await scanner.peek()) !== 0x7d) {
    let afterComma = false;
    for (;;) {
      const key = await readKey(afterComma);
      if (key === 'vectors') {
        foundVectors = true;
        break;
      }
      await readMember(key);
      if (!(await nextMember())) break;
      afterComma = true;
    }
  }
  if (!foundVectors) {
    await scanner.close();
    throw corruptJson('it has no "vectors" array');
  }
  const ours = members.get('format') === FORMAT_NAME;
  const version = members.get('formatVersion');
  if (ours && typeof version === 'number' && version > VERSION) {
    await scanner.close();
    throw new VecSnapError('VERSION_UNSUPPORTED', `The JSON file has format version ${version}; this VecSnap reads version ${VERSION}.`);
  }
  await scanner.expect(0x5b, '"[" after "vectors"');
  // The dimension may only be known from the first vector (legacy files without options).
  let header: DatasetHeader;
  try {
    header = headerFrom(members, undefined);
  } catch (err) {
    await scanner.close();
    throw err;
  }
  let stored: string | undefined;

  async function* chunks(): AsyncGenerator<EntryChunk> {
    const dim = header.dimension;
    const digest = verify ? new ContentDigest(dim) : undefined;
    let count = 0;
    const toChunk = (elements: unknown[]): EntryChunk => {
      const n = elements.length;
      const ids: string[] = new Array(n);
      const metadata: (Metadata | undefined)[] = new Array(n);
      const vectors = new Float32Array(n * dim);
      for (let i = 0; i < n; i++) {
        const el = elements[i] as { id?: unknown; vector?: unknown; metadata?: unknown } | null;
        if (typeof el !== 'object' || el === null || typeof el.id !== 'string') {
          throw corruptJson(`entry ${count + i} has no string id`);
        }
        const vec = el.vector;
        if (!Array.isArray(vec)) throw new VecSnapError('INVALID_VECTOR', `The vector of "${el.id}" is not an array of numbers.`);
        if (vec.length !== dim) {
          throw new VecSnapError('DIMENSION_MISMATCH', `The vector of "${el.id}" has ${vec.length} components; the file's dimension is ${dim}.`);
        }
        const base = i * dim;
        for (let j = 0; j < dim; j++) {
          const x = vec[j];
          if (typeof x !== 'number' || !Number.isFinite(x)) {
            throw new VecSnapError('INVALID_VECTOR', `The vector of "${el.id}" has a non-finite component at index ${j} (${JSON.stringify(x)}).`);
          }
          vectors[base + j] = x;
        }
        ids[i] = el.id;
        const m = el.metadata;
        if (m !== undefined && m !== null) {
          if (typeof m !== 'object' || Array.isArray(m)) throw new VecSnapError('INVALID_METADATA', `The metadata of "${el.id}" is not an object.`);
          metadata[i] = m as Metadata;
        }
      }
      return { ids, vectors, metadata };
    };
    try {
      let c = await scanner.peek();
      if (c !== 0x5d) {
        for (;;) {
          throwIfAborted(options.signal, 'Reading the JSON file');
          // Collect up to ENTRIES_PER_CHUNK whole elements (pinned in the buffer), then parse
          // them with a single native JSON.parse.
          let batchStart = -1;
          let batchEnd = -1;
          let n = 0;
          let closed = false;
          try {
            for (;;) {
              const [s, e] = await scanner.value();
              if (batchStart < 0) {
                batchStart = scanner.base + s;
                scanner.pinAbs = batchStart;
              }
              batchEnd = scanner.base + e;
              n++;
              c = await scanner.peek();
              if (c === 0x5d) {
                closed = true;
                break;
              }
              if (c !== 0x2c) {
                throw c === -1
                  ? corruptJson('it is truncated inside "vectors"')
                  : corruptJson(`expected "," between entries at byte ${scanner.absolute}`);
              }
              scanner.pos++;
              if (n >= ENTRIES_PER_CHUNK || batchEnd - batchStart > FLUSH_BYTES * 16) break;
            }
          } finally {
            scanner.pinAbs = Infinity;
          }
          const text = '[' + scanner.buf.toString('utf8', batchStart - scanner.base, batchEnd - scanner.base) + ']';
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            throw corruptJson(`invalid JSON in the entries near byte ${batchStart}`);
          }
          const chunk = toChunk(parsed as unknown[]);
          digest?.update(chunk);
          count += chunk.ids.length;
          yield chunk;
          if (closed) break;
        }
      }
      scanner.pos++; // ']'
      while (await nextMember()) {
        const key = await readKey(true);
        await readMember(key);
      }
      const endAbs = scanner.absolute + 1;
      scanner.pos++; // '}'
      legacyHash.endAt(endAbs);
      if ((await scanner.peek()) !== -1) throw corruptJson(`there is data after the end of the JSON object (byte ${scanner.absolute})`);
      scanner.flushAll();
      const declared = members.get('count');
      if (ours && declared !== count) throw corruptJson(`it declares ${String(declared)} entries but holds ${count}`);
      if (ours) {
        const checksum = members.get('contentChecksum');
        stored = typeof checksum === 'string' ? checksum : undefined;
        if (digest && stored !== undefined && digest.digest() !== stored) {
          throw new VecSnapError('CHECKSUM_MISMATCH', 'The content checksum of the JSON file does not match its data: the file was changed or damaged.');
        }
      } else {
        const checksum = members.get('checksum');
        if (typeof checksum === 'string' && legacyHash.usable && !scanner.sawWhitespace) {
          stored = checksum;
          if (verify && legacyHash.digest() !== checksum) {
            throw new VecSnapError('CHECKSUM_MISMATCH', 'The checksum stored in this database file does not match its content: the file was changed or damaged.');
          }
        }
      }
    } finally {
      await scanner.close();
    }
  }

  return { header, chunks: chunks(), storedChecksum: () => stored, legacy: !ours };
}

export const jsonCodec: StreamCodec = { format: 'json', encode, decode };
