import { Packr } from 'msgpackr';
import { VecSnapError, throwIfAborted } from '../errors.js';
import { METRICS, type DatasetHeader, type EntryChunk, type Metadata, type Metric } from '../types.js';
import type { ChunkSource, DecodeOptions, DecodedDataset, EncodeOutput, EncodeSummary, StreamCodec } from './codec.js';
import { ContentDigest, jsonOrUndefined, utf8SafeMetadataJson } from './content-digest.js';

/**
 * VecSnap binary, version 1. Integers are u32 little-endian; "msgpack" is one msgpackr value.
 *
 *   "VSNAPBIN"  version=1
 *   headerLength  msgpack{ dimension, metric, count, createdAt, metadata? }
 *   ( 'C'  n  recordLength  msgpack{ ids: string[n], metadata: (string|object|null)[n] }  float32[n × dimension] )*
 *   'T'  trailerLength  msgpack{ count, contentChecksum }          (end of file)
 *
 * The header comes first so a file can be described without reading its body. Vectors are raw
 * little-endian float32 straight from typed-array memory (content-digest.ts refuses big-endian
 * machines), so neither side touches individual numbers. The block length is implied by n and
 * the header's dimension; the ids array must hold n entries, which catches a damaged n.
 * Entry metadata is written as its JSON text (the content digest's own input, see records());
 * readers also take a msgpack map, which files written before 2026-11-25 hold. Header metadata is
 * a map unless it has an own "__proto__" key (see onWire).
 */
export const BINARY_MAGIC: Buffer = Buffer.from('VSNAPBIN', 'latin1');

const VERSION = 1;
const TAG_CHUNK = 0x43; // 'C'
const TAG_TRAILER = 0x54; // 'T'
/** No record or vector block is ever this big; a larger length means the file is damaged. */
const MAX_RECORD_BYTES = 2 ** 30;
/** Encoder split points: keeps every record small enough to stream in bounded memory. */
const VECTOR_BYTES_PER_RECORD = 8 * 2 ** 20;
const MAX_ENTRIES_PER_RECORD = 65_536;
const MAX_DIMENSION = 65_536;

// Plain msgpack maps, decoded as plain objects; no records or extension types, so metadata
// round-trips as JSON data. int64AsType: integers written as 64-bit come back as numbers, not bigint.
const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  mapsAsObjects: true,
  variableMapSize: true,
  int64AsType: 'number',
});

const WRITING = 'Writing the binary file';
const READING = 'Reading the binary file';

function corrupt(detail: string, cause?: unknown): VecSnapError {
  return new VecSnapError('CORRUPT_FILE', `The binary file is damaged: ${detail}.`, { cause });
}

function truncated(where: string): VecSnapError {
  return new VecSnapError('CORRUPT_FILE', `The binary file is truncated: it ends ${where}.`);
}

function unpack(bytes: Buffer, what: string): unknown {
  try {
    return packr.unpack(bytes);
  } catch (err) {
    throw corrupt(`its ${what} cannot be decoded (${(err as Error).message.slice(0, 80)})`, err);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------- encode

/** msgpackr packs into a shared scratch buffer, so every result is copied before the next pack. */
function pack(value: unknown, what: string): Buffer {
  try {
    return packr.pack(value);
  } catch (err) {
    throw new VecSnapError('INVALID_METADATA', `${what} cannot be written: ${(err as Error).message}.`, { cause: err });
  }
}

/**
 * Metadata as it goes into msgpack. msgpackr reads a map key "__proto__" back as "__proto_"
 * (against prototype pollution), so metadata holding such a key — valid JSON data — is sent as
 * its JSON text, which JSON.parse restores exactly. `json` is JSON.stringify(metadata); a false
 * positive (the text inside a string) only costs the JSON form, which is always exact.
 */
function onWire(metadata: Metadata, json: string): Metadata | string {
  return json.includes('"__proto__":') ? json : metadata;
}

function fromWire(value: unknown, what: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch (err) {
    throw corrupt(`${what} is not valid JSON`, err);
  }
}

/** prefix + u32 length + body (+ a small vector block), in one fresh Buffer. */
function framed(prefix: number[], body: Buffer, block?: Uint8Array): Buffer {
  const start = prefix.length + 4;
  const out = Buffer.allocUnsafe(start + body.length + (block?.length ?? 0));
  prefix.forEach((byte, i) => (out[i] = byte));
  out.writeUInt32LE(body.length, prefix.length);
  body.copy(out, start);
  if (block) out.set(block, start + body.length);
  return out;
}

function u32Bytes(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

function slice(chunk: EntryChunk, dimension: number, from: number, to: number): EntryChunk {
  return {
    ids: chunk.ids.slice(from, to),
    vectors: chunk.vectors.subarray(from * dimension, to * dimension),
    metadata: chunk.metadata.slice(from, to),
  };
}

/**
 * Chunk records of at most ~8 MiB of vectors each, halved further if the metadata is huge.
 * `copy`: every block goes into its record's own buffer, none out as a view of the chunk.
 */
function* records(
  chunk: EntryChunk,
  dimension: number,
  copy: boolean,
): Generator<{ part: EntryChunk; json: (string | undefined)[]; buffers: Buffer[] }> {
  const n = chunk.ids.length;
  if (n === 0) return;
  const per = Math.max(1, Math.min(MAX_ENTRIES_PER_RECORD, Math.floor(VECTOR_BYTES_PER_RECORD / (dimension * 4))));
  if (n > per) {
    for (let i = 0; i < n; i += per) yield* records(slice(chunk, dimension, i, Math.min(n, i + per)), dimension, copy);
    return;
  }
  // Entry metadata goes on the wire as its JSON text: the content digest needs that text anyway,
  // msgpack packs one string faster than a map, and a reader gets the digest's input verbatim
  // instead of serialising every object again. Readers take a string or a map (fromWire).
  const json = chunk.metadata.map((m, i) => utf8SafeMetadataJson(chunk.ids[i]!, m));
  const wire = json.map((text) => text ?? null);
  const body = pack({ ids: chunk.ids, metadata: wire }, 'The metadata of a block of entries');
  if (body.length > MAX_RECORD_BYTES) {
    if (n === 1) throw new VecSnapError('INVALID_METADATA', `The metadata of "${chunk.ids[0]}" is larger than 1 GiB.`);
    const half = Math.ceil(n / 2);
    yield* records(slice(chunk, dimension, 0, half), dimension, copy);
    yield* records(slice(chunk, dimension, half, n), dimension, copy);
    return;
  }
  const { buffer, byteOffset, byteLength } = chunk.vectors;
  const block = Buffer.from(buffer, byteOffset, byteLength);
  const prefix = [TAG_CHUNK, ...u32Bytes(n)];
  // Big blocks go out as views of the chunk's own memory: copying 150 MB would cost a third of
  // the encode time. Chunk sources never change an array they handed out (VectorDB.readChunks
  // copies for that reason), until the encoder hands it back (see encode). Small blocks are
  // merged to save writes.
  yield {
    part: chunk,
    json,
    buffers: copy || byteLength < 64 * 1024 ? [framed(prefix, body, block)] : [framed(prefix, body), block],
  };
}

function checkChunk(chunk: EntryChunk, dimension: number): void {
  const n = chunk.ids.length;
  if (chunk.vectors.length !== n * dimension) {
    throw new VecSnapError(
      'DIMENSION_MISMATCH',
      `A block of ${n} entries holds ${chunk.vectors.length} vector components; dimension ${dimension} needs ${n * dimension}.`,
    );
  }
  if (chunk.metadata.length !== n) {
    throw new VecSnapError('INVALID_ARGUMENT', `A block of ${n} entries carries ${chunk.metadata.length} metadata slots.`);
  }
  // UTF-8 cannot carry a lone surrogate: it would be read back as U+FFFD, a different id.
  if (/\p{Cs}/u.test(chunk.ids.join('\n'))) {
    const bad = chunk.ids.find((id) => /\p{Cs}/u.test(id)) ?? '';
    throw new VecSnapError('INVALID_ARGUMENT', `The id ${JSON.stringify(bad)} is not valid Unicode text (a lone surrogate).`);
  }
}

async function* encode(
  header: DatasetHeader,
  chunks: ChunkSource,
  summary: EncodeSummary,
  signal?: AbortSignal,
  output?: EncodeOutput,
): AsyncGenerator<Buffer> {
  const { dimension, metric } = header;
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > MAX_DIMENSION || !METRICS.includes(metric)) {
    throw new VecSnapError('INVALID_ARGUMENT', `Cannot write a binary file with dimension ${dimension} and metric "${metric}".`);
  }
  throwIfAborted(signal, WRITING);
  const { count, createdAt, metadata } = header;
  const extra = metadata !== undefined ? { metadata: onWire(metadata, JSON.stringify(metadata)) } : {};
  const head = pack({ dimension, metric, count, createdAt, ...extra }, 'The dataset header');
  const first = framed([...BINARY_MAGIC, ...u32Bytes(VERSION)], head);
  let produced = first.length;
  yield first;

  const digest = new ContentDigest(dimension);
  for await (const chunk of chunks) {
    checkChunk(chunk, dimension);
    // Memory the source wants back is copied when the file's progress cannot be followed (the
    // bytes are compressed first): held as views, it would be lost to the source until the
    // garbage collector freed it, and shared memory the hashing thread read only later still.
    const copy = output === undefined && chunk.recycle !== undefined;
    let viewed = false;
    for (const { part, json, buffers } of records(chunk, dimension, copy)) {
      throwIfAborted(signal, WRITING);
      digest.update(part, json);
      viewed ||= buffers.length > 1;
      for (const buffer of buffers) {
        produced += buffer.length;
        yield buffer;
      }
    }
    // The chunk's memory is free once nothing reads it: at once when every block was copied
    // into its record, else when the file has taken the bytes up to its last block.
    if (!viewed) chunk.recycle?.(() => true);
    else if (output) {
      const end = produced;
      chunk.recycle?.(() => output.writtenBytes() >= end);
    }
  }
  throwIfAborted(signal, WRITING);
  summary.count = digest.count;
  summary.contentChecksum = digest.digest();
  yield framed([TAG_TRAILER], pack({ count: summary.count, contentChecksum: summary.contentChecksum }, 'The trailer'));
}

// ---------------------------------------------------------------------------------- decode

/**
 * Pulls exact byte counts out of an async stream of Buffers of any size. Holds only bytes not
 * yet consumed (at most one partly used input piece between reads), so memory stays bounded
 * and no byte is copied more than once.
 */
class ByteReader {
  private readonly source: AsyncIterator<Uint8Array>;
  private pieces: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  /** Set when the input itself threw: such errors (I/O, decompression) pass through unchanged. */
  inputFailed = false;
  /** Bytes consumed so far, for error messages. */
  offset = 0;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.source = input[Symbol.asyncIterator]();
  }

  private async pull(): Promise<Buffer | null> {
    while (!this.ended) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await this.source.next();
      } catch (err) {
        this.inputFailed = true;
        throw err;
      }
      if (next.done) this.ended = true;
      else if (next.value.length > 0) {
        const v = next.value;
        return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      }
    }
    return null;
  }

  /** Moves `n` buffered bytes into `target` at `at`. */
  private drain(target: Uint8Array, at: number, n: number): void {
    let used = 0;
    for (let done = 0; done < n; ) {
      const piece = this.pieces[used]!;
      const take = Math.min(piece.length, n - done);
      piece.copy(target, at + done, 0, take);
      done += take;
      if (take === piece.length) used++;
      else this.pieces[used] = piece.subarray(take);
    }
    if (used > 0) this.pieces = this.pieces.slice(used);
    this.buffered -= n;
    this.offset += n;
  }

  /** The next `n` bytes; fewer only when the input ends first. May be a view of an input piece. */
  async read(n: number): Promise<Buffer> {
    while (this.buffered < n) {
      const piece = await this.pull();
      if (!piece) break;
      this.pieces.push(piece);
      this.buffered += piece.length;
    }
    const take = Math.min(n, this.buffered);
    const first = this.pieces[0];
    if (first && first.length >= take) {
      this.pieces[0] = first.subarray(take);
      if (this.pieces[0].length === 0) this.pieces.shift();
      this.buffered -= take;
      this.offset += take;
      return first.subarray(0, take);
    }
    const out = Buffer.allocUnsafe(take);
    this.drain(out, 0, take);
    return out;
  }

  /** Fills `target` straight from the input; false when the input ends first. */
  async readInto(target: Uint8Array): Promise<boolean> {
    let filled = Math.min(target.length, this.buffered);
    this.drain(target, 0, filled);
    while (filled < target.length) {
      const piece = await this.pull();
      if (!piece) return false;
      const take = Math.min(piece.length, target.length - filled);
      piece.copy(target, filled, 0, take);
      filled += take;
      this.offset += take;
      if (take < piece.length) {
        this.pieces.push(piece.subarray(take));
        this.buffered += piece.length - take;
      }
    }
    return true;
  }

  /** Lets the input release its resources (file handles) when reading stops early. */
  async close(): Promise<void> {
    try {
      await this.source.return?.();
    } catch {
      // Closing is best effort; the error that stopped reading is the one to report.
    }
  }
}

/** Keeps VecSnapErrors and input errors; anything else thrown while parsing becomes CORRUPT_FILE. */
function asReadError(err: unknown, reader: ByteReader): unknown {
  if (err instanceof VecSnapError || reader.inputFailed) return err;
  return corrupt(`it could not be parsed at byte ${reader.offset} (${String((err as Error)?.message ?? err)})`, err);
}

/** A u32 length and that many bytes of msgpack, decoded. */
async function readRecord(reader: ByteReader, where: string, what: string): Promise<unknown> {
  const lengthBytes = await reader.read(4);
  if (lengthBytes.length < 4) throw truncated(where);
  const length = lengthBytes.readUInt32LE(0);
  if (length > MAX_RECORD_BYTES) throw corrupt(`a record length of ${length} bytes at byte ${reader.offset - 4} is impossible`);
  const body = await reader.read(length);
  if (body.length < length) throw truncated(where);
  return unpack(body, what);
}

function parseHeader(value: unknown): DatasetHeader {
  if (!isRecord(value)) throw corrupt('its header is not a record');
  const { dimension, metric, count, createdAt } = value;
  const metadata = fromWire(value.metadata, 'its header metadata');
  if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension < 1 || dimension > MAX_DIMENSION) {
    throw corrupt(`its header has an invalid dimension (${String(dimension)})`);
  }
  if (typeof metric !== 'string' || !METRICS.includes(metric as Metric)) {
    throw corrupt(`its header names an unknown metric (${String(metric)})`);
  }
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw corrupt(`its header has an invalid entry count (${String(count)})`);
  }
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) throw corrupt('its header has no valid creation time');
  if (metadata !== undefined && !isRecord(metadata)) throw corrupt('its header metadata is not an object');
  const header: DatasetHeader = { dimension, metric: metric as Metric, count, createdAt };
  if (metadata !== undefined) header.metadata = metadata;
  return header;
}

async function readHeader(reader: ByteReader): Promise<DatasetHeader> {
  const start = await reader.read(12);
  const magic = start.subarray(0, BINARY_MAGIC.length);
  if (!magic.equals(BINARY_MAGIC.subarray(0, magic.length))) {
    throw new VecSnapError('UNSUPPORTED_FORMAT', 'The file is not a VecSnap binary file: its first bytes are not "VSNAPBIN".');
  }
  if (start.length < 12) throw truncated(start.length === 0 ? 'before its first byte (it is empty)' : 'inside its magic bytes');
  const version = start.readUInt32LE(8);
  if (version !== VERSION) {
    throw new VecSnapError(
      'VERSION_UNSUPPORTED',
      `The binary file has format version ${version}, but this VecSnap reads only version ${VERSION}; a newer VecSnap may open it.`,
    );
  }
  return parseHeader(await readRecord(reader, 'inside its header', 'header'));
}

/** A decoded block, and per entry the metadata's JSON text where the file stored it as text. */
interface ReadChunk {
  chunk: EntryChunk;
  json: (string | undefined)[];
}

async function readChunk(reader: ByteReader, dimension: number, spare?: Float32Array): Promise<ReadChunk> {
  const nBytes = await reader.read(4);
  if (nBytes.length < 4) throw truncated('inside a block of entries');
  const n = nBytes.readUInt32LE(0);
  if (n * dimension * 4 > MAX_RECORD_BYTES) throw corrupt(`a block claims ${n} entries, more than any block holds`);
  const record = await readRecord(reader, 'inside a block of entries', 'block of ids and metadata');
  const ids = isRecord(record) ? record.ids : undefined;
  const metas = isRecord(record) ? record.metadata : undefined;
  if (!Array.isArray(ids) || !Array.isArray(metas) || ids.length !== n || metas.length !== n) {
    throw corrupt(`a block before byte ${reader.offset} does not hold the ${n} ids and metadata it announces`);
  }
  const metadata: (Metadata | undefined)[] = new Array<Metadata | undefined>(n);
  const json: (string | undefined)[] = new Array<string | undefined>(n);
  for (let i = 0; i < n; i++) {
    const wire = metas[i];
    const m = fromWire(wire, `the metadata of entry ${i} of a block`);
    if (typeof ids[i] !== 'string') throw corrupt(`entry ${i} of a block has an id that is not a string`);
    if (m !== null && !isRecord(m)) throw corrupt(`the metadata of ${JSON.stringify(ids[i])} is not an object`);
    metadata[i] = m === null ? undefined : m;
    // Stored text is what the writer hashed; a map (older files) is serialised for the digest.
    json[i] = m === null ? undefined : typeof wire === 'string' ? wire : jsonOrUndefined(m as Metadata);
  }
  // An aligned Float32Array filled straight from the input: one copy, never a view of it. Fresh
  // unless the caller lent the previous block's array back (DecodeOptions.reuseVectors).
  const vectors = spare?.length === n * dimension ? spare : new Float32Array(n * dimension);
  if (!(await reader.readInto(new Uint8Array(vectors.buffer)))) throw truncated('inside a block of vectors');
  return { chunk: { ids: ids as string[], vectors, metadata }, json };
}

async function* readBody(
  reader: ByteReader,
  header: DatasetHeader,
  options: DecodeOptions,
  setStored: (checksum: string) => void,
): AsyncGenerator<EntryChunk> {
  const digest = (options.verifyChecksum ?? true) ? new ContentDigest(header.dimension) : undefined;
  let count = 0;
  let spare: Float32Array | undefined;
  try {
    for (;;) {
      throwIfAborted(options.signal, READING);
      const tag = await reader.read(1);
      if (tag.length === 0) throw truncated('before its trailer');
      if (tag[0] === TAG_TRAILER) break;
      if (tag[0] !== TAG_CHUNK) throw corrupt(`byte ${reader.offset - 1} holds an unknown record type (${tag[0]})`);
      const { chunk, json } = await readChunk(reader, header.dimension, spare);
      digest?.update(chunk, json);
      count += chunk.ids.length;
      yield chunk;
      if (options.reuseVectors) spare = chunk.vectors;
    }
    const trailer = await readRecord(reader, 'inside its trailer', 'trailer');
    if (!isRecord(trailer) || typeof trailer.count !== 'number' || typeof trailer.contentChecksum !== 'string') {
      throw corrupt('its trailer lacks the entry count or the content checksum');
    }
    if ((await reader.read(1)).length > 0) throw corrupt(`there are bytes after its trailer (from byte ${reader.offset - 1})`);
    if (trailer.count !== count) throw corrupt(`its trailer counts ${trailer.count} entries but the file holds ${count}`);
    setStored(trailer.contentChecksum);
    if (digest && digest.digest() !== trailer.contentChecksum) {
      throw new VecSnapError(
        'CHECKSUM_MISMATCH',
        'The content checksum of the binary file does not match: its entries were changed or damaged after it was written.',
      );
    }
  } catch (err) {
    throw asReadError(err, reader);
  } finally {
    await reader.close();
  }
}

async function decode(input: AsyncIterable<Buffer>, options: DecodeOptions = {}): Promise<DecodedDataset> {
  const reader = new ByteReader(input);
  let header: DatasetHeader;
  try {
    throwIfAborted(options.signal, READING);
    header = await readHeader(reader);
  } catch (err) {
    await reader.close();
    throw asReadError(err, reader);
  }
  let stored: string | undefined;
  const chunks = readBody(reader, header, options, (checksum) => (stored = checksum));
  return { header, chunks, storedChecksum: () => stored, legacy: false };
}

export const binaryCodec: StreamCodec = { format: 'binary', encode, decode };
