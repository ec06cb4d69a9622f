import { Packr } from 'msgpackr';
import { VecSnapError, throwIfAborted } from '../errors.js';
import type { DatasetHeader, EntryChunk, Metadata } from '../types.js';
import { METRICS } from '../types.js';
import { ByteReader } from './byte-reader.js';
import type { ChunkSource, DecodeOptions, DecodedDataset, EncodeSummary, StreamCodec } from './codec.js';
import { ContentDigest } from './content-digest.js';

/**
 * VecSnap binary, version 1 (all integers u32 little-endian):
 *   "VSNAPBIN" version
 *   headerLength msgpack{ dimension, metric, count, createdAt, metadata? }
 *   ( 'C' n recordLength msgpack{ ids, metadata } float32[n × dimension] )*
 *   'T' trailerLength msgpack{ count, contentChecksum }
 * Vectors are raw little-endian float32 blocks: no per-number encoding on either side.
 */
export const BINARY_MAGIC = Buffer.from('VSNAPBIN', 'latin1');
const VERSION = 1;
const TAG_CHUNK = 0x43;
const TAG_TRAILER = 0x54;
const MAX_RECORD = 1 << 30;
const MAX_VECTOR_BYTES_PER_RECORD = 8 * 1024 * 1024;

// int64AsType: timestamps and counts above 2^32 must come back as numbers, not bigint.
const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number', variableMapSize: true });

function u32(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(value, 0);
  return b;
}

function corrupt(message: string): VecSnapError {
  return new VecSnapError('CORRUPT_FILE', `The binary file is damaged: ${message}.`);
}

function truncated(where: string): VecSnapError {
  return new VecSnapError('CORRUPT_FILE', `The binary file is truncated: it ends inside ${where}.`);
}

function unpack(bytes: Buffer, what: string): unknown {
  try {
    return packr.unpack(bytes);
  } catch (err) {
    throw new VecSnapError('CORRUPT_FILE', `The binary file is damaged: its ${what} cannot be decoded.`, { cause: err });
  }
}

function* split(chunk: EntryChunk, dimension: number): Iterable<EntryChunk> {
  const max = Math.max(1, Math.floor(MAX_VECTOR_BYTES_PER_RECORD / (dimension * 4)));
  if (chunk.ids.length <= max) {
    yield chunk;
    return;
  }
  for (let i = 0; i < chunk.ids.length; i += max) {
    const end = Math.min(chunk.ids.length, i + max);
    yield {
      ids: chunk.ids.slice(i, end),
      metadata: chunk.metadata.slice(i, end),
      vectors: chunk.vectors.subarray(i * dimension, end * dimension),
    };
  }
}

async function* encode(
  header: DatasetHeader,
  chunks: ChunkSource,
  summary: EncodeSummary,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  const head = packr.pack({
    dimension: header.dimension,
    metric: header.metric,
    count: header.count,
    createdAt: header.createdAt,
    ...(header.metadata !== undefined ? { metadata: header.metadata } : {}),
  });
  yield Buffer.concat([BINARY_MAGIC, u32(VERSION), u32(head.length), head]);
  const digest = new ContentDigest(header.dimension);
  let count = 0;
  for await (const whole of chunks) {
    throwIfAborted(signal, 'Writing the binary file');
    for (const chunk of split(whole, header.dimension)) {
      const n = chunk.ids.length;
      if (n === 0) continue;
      if (chunk.vectors.length !== n * header.dimension) {
        throw new VecSnapError('DIMENSION_MISMATCH', `A block of ${n} vectors does not have dimension ${header.dimension}.`);
      }
      digest.update(chunk);
      const record = packr.pack({ ids: chunk.ids, metadata: chunk.metadata.map((m) => m ?? null) });
      const vectorBytes = chunk.vectors.byteLength;
      const out = Buffer.allocUnsafe(9 + record.length + vectorBytes);
      out[0] = TAG_CHUNK;
      out.writeUInt32LE(n, 1);
      out.writeUInt32LE(record.length, 5);
      record.copy(out, 9);
      Buffer.from(chunk.vectors.buffer, chunk.vectors.byteOffset, vectorBytes).copy(out, 9 + record.length);
      count += n;
      yield out;
    }
  }
  summary.count = count;
  summary.contentChecksum = digest.digest();
  const trailer = packr.pack({ count, contentChecksum: summary.contentChecksum });
  yield Buffer.concat([Buffer.from([TAG_TRAILER]), u32(trailer.length), trailer]);
}

function parseHeader(value: unknown): DatasetHeader {
  if (typeof value !== 'object' || value === null) throw corrupt('its header is not a record');
  const h = value as Record<string, unknown>;
  const { dimension, metric, count, createdAt } = h;
  if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension < 1 || dimension > 65536) {
    throw corrupt(`its header has an invalid dimension (${String(dimension)})`);
  }
  if (typeof metric !== 'string' || !METRICS.includes(metric as DatasetHeader['metric'])) {
    throw corrupt(`its header has an unknown metric (${String(metric)})`);
  }
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw corrupt('its header has an invalid count');
  const header: DatasetHeader = {
    dimension,
    metric: metric as DatasetHeader['metric'],
    count,
    createdAt: typeof createdAt === 'number' ? createdAt : 0,
  };
  if (typeof h.metadata === 'object' && h.metadata !== null && !Array.isArray(h.metadata)) {
    header.metadata = h.metadata as Metadata;
  }
  return header;
}

async function decode(input: AsyncIterable<Buffer>, options: DecodeOptions = {}): Promise<DecodedDataset> {
  const reader = new ByteReader(input);
  const start = await reader.read(12);
  if (start === null || !start.subarray(0, 8).equals(BINARY_MAGIC)) {
    await reader.close();
    if (start === null && reader.offset === 0) throw truncated('its header');
    throw new VecSnapError('UNSUPPORTED_FORMAT', 'The file is not a VecSnap binary file (its magic bytes are wrong).');
  }
  const version = start.readUInt32LE(8);
  if (version !== VERSION) {
    await reader.close();
    throw new VecSnapError(
      'VERSION_UNSUPPORTED',
      `The binary file has format version ${version}; this VecSnap reads version ${VERSION}. Update VecSnap to read it.`,
    );
  }
  const lenBytes = await reader.read(4);
  if (lenBytes === null) throw truncated('its header');
  const headLen = lenBytes.readUInt32LE(0);
  if (headLen > MAX_RECORD) throw corrupt('its header length is impossible');
  const headBytes = await reader.read(headLen);
  if (headBytes === null) throw truncated('its header');
  const header = parseHeader(unpack(headBytes, 'header'));
  const verify = options.verifyChecksum ?? true;
  let stored: string | undefined;

  async function* chunks(): AsyncGenerator<EntryChunk> {
    const digest = verify ? new ContentDigest(header.dimension) : undefined;
    let count = 0;
    try {
      for (;;) {
        throwIfAborted(options.signal, 'Reading the binary file');
        const tag = await reader.read(1);
        if (tag === null) throw truncated('the entries (no trailer)');
        if (tag[0] === TAG_TRAILER) {
          const len = await reader.read(4);
          if (len === null) throw truncated('its trailer');
          const trailerLen = len.readUInt32LE(0);
          if (trailerLen > MAX_RECORD) throw corrupt('its trailer length is impossible');
          const body = await reader.read(trailerLen);
          if (body === null) throw truncated('its trailer');
          const trailer = unpack(body, 'trailer') as { count?: unknown; contentChecksum?: unknown } | null;
          if (!(await reader.atEnd())) throw corrupt('there are bytes after its trailer');
          if (trailer?.count !== count) {
            throw corrupt(`its trailer counts ${String(trailer?.count)} entries but ${count} were read`);
          }
          stored = typeof trailer.contentChecksum === 'string' ? trailer.contentChecksum : undefined;
          if (digest && stored !== undefined && digest.digest() !== stored) {
            throw new VecSnapError(
              'CHECKSUM_MISMATCH',
              'The content checksum of the binary file does not match its data: the file was changed or damaged.',
            );
          }
          return;
        }
        if (tag[0] !== TAG_CHUNK) throw corrupt(`unexpected record type 0x${tag[0]!.toString(16)} at byte ${reader.offset - 1}`);
        const sizes = await reader.read(8);
        if (sizes === null) throw truncated('a block of entries');
        const n = sizes.readUInt32LE(0);
        const recordLen = sizes.readUInt32LE(4);
        const vectorBytes = n * header.dimension * 4;
        if (recordLen > MAX_RECORD || vectorBytes > MAX_RECORD) throw corrupt('a block length is impossible');
        const recordBytes = await reader.read(recordLen);
        if (recordBytes === null) throw truncated('a block of entries');
        const record = unpack(recordBytes, 'block of ids') as { ids?: unknown; metadata?: unknown } | null;
        const ids = record?.ids;
        const metas = record?.metadata;
        if (!Array.isArray(ids) || !Array.isArray(metas) || ids.length !== n || metas.length !== n) {
          throw corrupt(`a block does not hold the ${n} ids it announces`);
        }
        const raw = await reader.read(vectorBytes);
        if (raw === null) throw truncated('a block of vectors');
        const vectors = new Float32Array(n * header.dimension);
        new Uint8Array(vectors.buffer).set(raw);
        const metadata: (Metadata | undefined)[] = new Array(n);
        for (let i = 0; i < n; i++) {
          if (typeof ids[i] !== 'string') throw corrupt('an id is not a string');
          const m = metas[i] as unknown;
          if (m !== null && (typeof m !== 'object' || Array.isArray(m))) throw corrupt(`the metadata of "${ids[i]}" is not an object`);
          metadata[i] = m === null ? undefined : (m as Metadata);
        }
        const chunk: EntryChunk = { ids: ids as string[], vectors, metadata };
        digest?.update(chunk);
        count += n;
        yield chunk;
      }
    } finally {
      await reader.close();
    }
  }

  return { header, chunks: chunks(), storedChecksum: () => stored, legacy: false };
}

export const binaryCodec: StreamCodec = { format: 'binary', encode, decode };
