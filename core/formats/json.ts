import { VecSnapError, throwIfAborted } from '../errors.js';
import type { DatasetHeader, EntryChunk, Metadata, Metric } from '../types.js';
import { METRICS } from '../types.js';
import type { ChunkSource, DecodeOptions, DecodedDataset, EncodeSummary, StreamCodec } from './codec.js';
import { ContentDigest, jsonOrUndefined } from './content-digest.js';
import {
  JsonReader,
  LegacyChecksum,
  corruptJson,
  forgetParsedBuffer,
  parseFloat32Array,
  scanValue,
  skipWs,
  truncatedJson,
  writeFloat32Array,
} from './json-scanner.js';
import {
  MAX_FLOAT_TEXT_BYTES,
  NumberJobError,
  WorkShare,
  formatVectorsOffThread,
  numberThreadReady,
  parseVectorsOffThread,
  type FormattedVectors,
  type ParsedVectors,
} from './json-number-thread.js';

/**
 * VecSnap JSON (formatVersion 1): a superset of the original module's `DatabaseState`, so that
 * module can still read it. Header keys come before `vectors`, one entry per line, then a trailer:
 *
 *   {"version":"1.0.0","format":"vecsnap-json","formatVersion":1,"options":{"dimension":D,"metric":M},
 *    "stats":{"count":N,"dimension":D,"metric":M},"createdAt":T,"metadata":{…},"timestamp":T,"vectors":[
 *   {"id":"a","vector":[0.1,-0,…],"metadata":{…}},
 *   {"id":"b","vector":[…]}
 *   ],"count":N,"contentChecksum":"<hex>"}
 *
 * (`metadata` only when the dataset has some; an entry's `metadata` only when it has some.)
 * Vector components are float32 written as decimal text that rounds back to the same bits.
 * Both directions stream: the writer yields ~1 MiB Buffers, the reader holds about one MiB of
 * input plus the chunk being built. For large files the number thread (json-number-thread.ts)
 * shares the work. Writing (jsonEncodeTuning), it writes the vector text of part of each chunk
 * while this thread writes the rest. Reading (jsonDecodeTuning), this thread scans ids and metadata
 * of chunk k + 1 while that one parses the vectors of chunk k, so the reader then also holds the
 * text of those two chunks.
 */
const FORMAT_NAME = 'vecsnap-json';
const FORMAT_VERSION = 1;
const OUT_BYTES = 1 << 20;
const ENTRIES_PER_CHUNK = 1024;
/** Text staged for the number thread per chunk, at most (plus one entry). */
const STAGE_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Tuning of the encoder. Datasets of at least `threadMinValues` vector components have part of
 * each chunk's vector text written by the number thread while this thread writes the rest.
 */
export const jsonEncodeTuning = { threadMinValues: 1 << 21 };

function invalidVector(id: string, why: string): VecSnapError {
  return new VecSnapError('INVALID_VECTOR', `The vector of "${id}" ${why}.`);
}

async function* encode(
  header: DatasetHeader,
  chunks: ChunkSource,
  summary: EncodeSummary,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  const { dimension, metric } = header;
  const head = JSON.stringify({
    version: '1.0.0',
    format: FORMAT_NAME,
    formatVersion: FORMAT_VERSION,
    options: { dimension, metric },
    stats: { count: header.count, dimension, metric },
    createdAt: header.createdAt,
    ...(header.metadata !== undefined ? { metadata: header.metadata } : {}),
    timestamp: header.createdAt,
  });
  const first = `${head.slice(0, -1)},"vectors":[`;
  let out = Buffer.allocUnsafe(Math.max(OUT_BYTES, first.length * 3 + 64));
  let o = out.write(first, 0, 'utf8');
  const digest = new ContentDigest(dimension);
  const vectorBytes = dimension * MAX_FLOAT_TEXT_BYTES + 2;
  const threaded = header.count * dimension >= jsonEncodeTuning.threadMinValues;
  const share = new WorkShare();
  /** Buffers of the last format job, sent with the next one (no fresh memory per chunk). */
  let spareValues: Float32Array | undefined;
  let spareText: Uint8Array | undefined;
  let threadText: FormattedVectors | undefined;
  let count = 0;
  for await (const chunk of chunks) {
    throwIfAborted(signal, 'Writing the JSON file');
    const n = chunk.ids.length;
    if (chunk.vectors.length !== n * dimension) {
      throw new VecSnapError('DIMENSION_MISMATCH', `A block of ${n} vectors does not have dimension ${dimension}.`);
    }
    const metaJson = chunk.metadata.map(jsonOrUndefined);
    const v = chunk.vectors;
    // The number thread writes the vector text of entries [split, n) while this thread writes
    // entries [0, split) whole; then this one adds the ids and metadata around the thread's text.
    const split = threaded && n > 1 && numberThreadReady() ? share.split(n) : n;
    let job: Promise<FormattedVectors> | undefined;
    const started = performance.now();
    if (split < n) {
      const size = (n - split) * dimension;
      const values = spareValues && spareValues.length >= size ? spareValues : new Float32Array(Math.max(size, ENTRIES_PER_CHUNK * dimension));
      spareValues = undefined;
      values.set(v.subarray(split * dimension, n * dimension));
      job = formatVectorsOffThread(values, n - split, dimension, spareText);
      spareText = undefined;
      // Settled below; if this thread throws first, the rejection must not go unhandled.
      job.catch(() => undefined);
    }
    for (let i = 0; i < n; i++) {
      const id = chunk.ids[i]!;
      const idJson = JSON.stringify(id);
      const meta = metaJson[i];
      let text: Uint8Array | undefined;
      if (i === split && job) {
        const mainMs = performance.now() - started;
        let formatted: FormattedVectors | undefined;
        try {
          formatted = await job;
        } catch (err) {
          // The thread could not do it, or is gone: this thread writes the rest of the chunk.
          if (err instanceof NumberJobError) {
            spareValues = err.returned.values;
            spareText = err.returned.out;
          }
        }
        job = undefined;
        if (formatted) {
          share.record(split, mainMs, n - split, formatted.busyMs);
          threadText = formatted;
          spareValues = formatted.values;
        }
      }
      if (threadText && i >= split) {
        const k = i - split;
        if (threadText.failed === k) threadText = undefined; // written here, which reports the value
        else text = threadText.text.subarray(k === 0 ? 0 : threadText.ends[k - 1], threadText.ends[k]);
      }
      const need = 40 + 3 * idJson.length + (text ? text.length + 2 : vectorBytes) + (meta === undefined ? 0 : 3 * meta.length);
      if (o + need > out.length) {
        yield out.subarray(0, o);
        throwIfAborted(signal, 'Writing the JSON file');
        out = Buffer.allocUnsafe(Math.max(OUT_BYTES, need));
        o = 0;
      }
      o += out.write(count === 0 ? '\n{"id":' : ',\n{"id":', o, 'latin1');
      o += out.write(idJson, o, 'utf8');
      o += out.write(',"vector":[', o, 'latin1');
      if (text) {
        out.set(text, o);
        o += text.length;
      } else {
        const base = i * dimension;
        o = writeFloat32Array(out, o, v, base, base + dimension);
        if (o < 0) {
          const j = v.subarray(base, base + dimension).findIndex((x) => !Number.isFinite(x));
          throw invalidVector(id, `has a non-finite component at index ${j} (${v[base + j]})`);
        }
      }
      if (meta === undefined) {
        out[o++] = 0x5d;
        out[o++] = 0x7d;
      } else {
        o += out.write('],"metadata":', o, 'latin1');
        o += out.write(meta, o, 'utf8');
        out[o++] = 0x7d;
      }
      count++;
    }
    if (threadText) spareText = threadText.text;
    threadText = undefined;
    digest.update(chunk, metaJson);
    // Every vector is text in `out` (or on its way to the number thread as a copy) by now.
    chunk.recycle?.(() => true);
  }
  summary.count = count;
  summary.contentChecksum = digest.digest();
  const trailer = `\n],"count":${count},"contentChecksum":"${summary.contentChecksum}"}\n`;
  if (o + trailer.length > out.length) {
    yield out.subarray(0, o);
    out = Buffer.allocUnsafe(trailer.length);
    o = 0;
  }
  o += out.write(trailer, o, 'latin1');
  yield out.subarray(0, o);
}

// ---- decode ---------------------------------------------------------------------------------

const ID_PREFIX = Buffer.from('{"id":"', 'latin1');
const VECTOR_KEY = Buffer.from(',"vector":', 'latin1');
const METADATA_KEY = Buffer.from(',"metadata":', 'latin1');

function matchAt(buf: Buffer, i: number, literal: Buffer): boolean {
  if (i + literal.length > buf.length) return false;
  for (let k = 0; k < literal.length; k++) if (buf[i + k] !== literal[k]) return false;
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Where one entry went: filled by the entry parsers. */
interface Slot {
  id: string;
  metadata: Metadata | undefined;
  /** Where the vector's "[" is in the buffer, when fastEntry was asked not to parse it. */
  vectorAt: number;
}

/**
 * Tuning of the decoder. Files of at least `threadMinValues` vector components (by their stated
 * count) have their vector text parsed on a second thread while this one scans ids and metadata
 * and the caller stores the previous chunk.
 */
export const jsonDecodeTuning = { threadMinValues: 1 << 21 };

/** Where the parts of one entry lie in the buffer (filled by entryLayout). */
export interface EntryLayout {
  /** The id's opening and closing quote; `plainId` when it holds no escape. */
  idOpen: number;
  idClose: number;
  plainId: boolean;
  /** The vector's "[" and the index after its "]". */
  vectorAt: number;
  vectorEnd: number;
  /** The metadata value's start and end, or -1 for both when the entry has none. */
  metaAt: number;
  metaEnd: number;
}

export function newEntryLayout(): EntryLayout {
  return { idOpen: -1, idClose: -1, plainId: true, vectorAt: -1, vectorEnd: -1, metaAt: -1, metaEnd: -1 };
}

/**
 * Finds the parts of an entry laid out as this writer (and JSON.stringify) writes them:
 * {"id":"…","vector":[…],"metadata":…} without whitespace. Returns the index after the entry,
 * or -1 for any other layout or when the entry does not end within buf. Nothing inside the
 * vector is checked: numbers hold no "]", so the first one ends it, and whoever parses the
 * numbers checks them.
 */
export function entryLayout(buf: Buffer, i: number, layout: EntryLayout): number {
  if (!matchAt(buf, i, ID_PREFIX)) return -1;
  const open = i + ID_PREFIX.length - 1;
  let j = open + 1;
  let plain = true;
  for (; j < buf.length; j++) {
    const c = buf[j]!;
    if (c === 0x22) break;
    if (c === 0x5c) {
      plain = false;
      j++;
    } else if (c < 0x20) return -1;
  }
  if (j >= buf.length) return -1;
  i = j + 1;
  if (!matchAt(buf, i, VECTOR_KEY)) return -1;
  const v = i + VECTOR_KEY.length;
  if (buf[v] !== 0x5b) return -1;
  const close = buf.indexOf(0x5d, v);
  if (close < 0) return -1;
  i = close + 1;
  let metaAt = -1;
  let metaEnd = -1;
  if (buf[i] !== 0x7d) {
    if (!matchAt(buf, i, METADATA_KEY)) return -1;
    metaAt = i + METADATA_KEY.length;
    metaEnd = scanValue(buf, metaAt);
    if (metaEnd < 0 || buf[metaEnd] !== 0x7d) return -1;
    i = metaEnd;
  }
  layout.idOpen = open;
  layout.idClose = j;
  layout.plainId = plain;
  layout.vectorAt = v;
  layout.vectorEnd = close + 1;
  layout.metaAt = metaAt;
  layout.metaEnd = metaEnd;
  return i + 1;
}

/** The id of an entry found by entryLayout, or undefined when its escapes are not valid JSON. */
export function layoutId(buf: Buffer, layout: EntryLayout): string | undefined {
  if (layout.plainId) return buf.toString('utf8', layout.idOpen + 1, layout.idClose);
  try {
    return JSON.parse(buf.toString('utf8', layout.idOpen, layout.idClose + 1)) as string;
  } catch {
    return undefined;
  }
}

const LAYOUT = newEntryLayout();

/**
 * Fast path for entries in entryLayout's layout. Writes the vector into vectors[at…] — or, with
 * vectors null, leaves it to the number thread and records where its "[" is —; returns the index
 * after the entry, or -1 for anything else (the caller then finds the entry's end and hands it to
 * JSON.parse, which also reports errors precisely).
 */
function fastEntry(buf: Buffer, i: number, vectors: Float32Array | null, at: number, dim: number, slot: Slot): number {
  const end = entryLayout(buf, i, LAYOUT);
  if (end < 0) return -1;
  const id = layoutId(buf, LAYOUT);
  if (id === undefined) return -1;
  if (vectors === null) slot.vectorAt = LAYOUT.vectorAt;
  else if (parseFloat32Array(buf, LAYOUT.vectorAt, vectors, at, dim) !== LAYOUT.vectorEnd) return -1;
  let metadata: unknown;
  if (LAYOUT.metaAt >= 0) {
    try {
      metadata = JSON.parse(buf.toString('utf8', LAYOUT.metaAt, LAYOUT.metaEnd));
    } catch {
      return -1;
    }
    if (metadata !== null && !isPlainObject(metadata)) return -1;
  }
  slot.id = id;
  slot.metadata = (metadata ?? undefined) as Metadata | undefined;
  return end;
}

/** Any entry as JSON.parse returned it: validated, its vector written into vectors[at…]. */
function parsedEntry(value: unknown, vectors: Float32Array, at: number, dim: number, index: number, slot: Slot): void {
  if (!isPlainObject(value) || typeof value.id !== 'string') {
    throw corruptJson(`entry ${index} of "vectors" has no string "id"`);
  }
  const { id, vector, metadata } = value;
  let components: unknown[];
  if (Array.isArray(vector)) components = vector;
  else if (isPlainObject(vector) && Object.keys(vector).every((key, k) => key === String(k))) {
    components = Object.values(vector); // a Float32Array that JSON.stringify wrote as {"0":…,"1":…}
  } else throw invalidVector(id, 'is not an array of numbers');
  if (components.length !== dim) {
    throw new VecSnapError(
      'DIMENSION_MISMATCH',
      `The vector of "${id}" has ${components.length} components; the file's dimension is ${dim}.`,
    );
  }
  for (let j = 0; j < dim; j++) {
    const x = components[j];
    if (typeof x !== 'number') {
      throw invalidVector(id, `has a component that is not a number at index ${j} (${JSON.stringify(x)})`);
    }
    vectors[at + j] = x;
    if (!Number.isFinite(vectors[at + j])) throw invalidVector(id, `has a non-finite float32 component at index ${j} (${x})`);
  }
  if (metadata !== undefined && metadata !== null && !isPlainObject(metadata)) {
    throw new VecSnapError('INVALID_METADATA', `The metadata of "${id}" is not an object.`);
  }
  slot.id = id;
  slot.metadata = (metadata ?? undefined) as Metadata | undefined;
}

/** Entry text that waits for the number thread, and how to get at each entry's vector again. */
class Staged {
  readonly ids: string[] = [];
  readonly metadata: (Metadata | undefined)[] = [];
  /** Per entry: where its vector's "[" is in `bytes`, or −1 when `local` holds the vector. */
  readonly starts = new Int32Array(ENTRIES_PER_CHUNK);
  /** Per entry with a start: its text's start and end in `bytes`, and its offset in the file. */
  private readonly texts = new Float64Array(3 * ENTRIES_PER_CHUNK);
  /** Vectors this thread parsed already (entries off the fast path), by entry index. */
  readonly local = new Map<number, Float32Array>();
  length = 0;

  /** `first` is the index of the first entry in the file. */
  constructor(
    public bytes: Uint8Array,
    readonly first: number,
    private readonly dim: number,
  ) {}

  /** Copies the entry buf[from … to) (its vector's "[" at vectorAt) as the next entry. */
  add(buf: Buffer, from: number, to: number, vectorAt: number, fileAt: number): void {
    const n = to - from;
    if (this.length + n > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(2 * this.bytes.length, this.length + n));
      bigger.set(this.bytes.subarray(0, this.length));
      this.bytes = bigger;
    }
    buf.copy(this.bytes, this.length, from, to);
    const k = this.ids.length;
    this.starts[k] = this.length + vectorAt - from;
    this.texts[3 * k] = this.length;
    this.texts[3 * k + 1] = this.length + n;
    this.texts[3 * k + 2] = fileAt;
    this.length += n;
  }

  /** Adds a vector this thread parsed. */
  addParsed(vector: Float32Array): void {
    const k = this.ids.length;
    this.starts[k] = -1;
    this.local.set(k, vector);
  }

  private view(): Buffer {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.length);
  }

  /** What the number thread does, on this thread (when that thread is not available). */
  parseHere(): ParsedVectors {
    const count = this.ids.length;
    const buf = this.view();
    const vectors = new Float32Array(count * this.dim);
    const failed: number[] = [];
    for (let k = 0; k < count; k++) {
      if (this.starts[k]! >= 0 && parseFloat32Array(buf, this.starts[k]!, vectors, k * this.dim, this.dim) < 0) failed.push(k);
    }
    return { vectors, failed: Int32Array.from(failed), stage: this.bytes };
  }

  /**
   * Entry k's vector refused by the fast parser: JSON.parse of the whole entry decides, exactly
   * as for an entry off the fast path (the same errors, or the vector).
   */
  reparse(k: number, vectors: Float32Array): void {
    const start = this.texts[3 * k]!;
    const text = this.view().toString('utf8', start, this.texts[3 * k + 1]!);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new VecSnapError(
        'CORRUPT_FILE',
        `The JSON file is damaged: invalid JSON in the value at byte ${this.texts[3 * k + 2]!} (${(err as Error).message}).`,
        { cause: err },
      );
    }
    parsedEntry(value, vectors, k * this.dim, this.dim, this.first + k, { id: '', metadata: undefined, vectorAt: -1 });
  }

  /** Throws what the first bad vector staged so far would throw (to keep errors in file order). */
  checkHere(): void {
    const { failed } = this.parseHere();
    if (failed.length > 0) {
      const scratch = new Float32Array(this.ids.length * this.dim);
      for (const k of failed) this.reparse(k, scratch);
    }
  }
}

const METRIC_ALIASES: Record<string, Metric> = {
  l2: 'euclidean',
  dotproduct: 'dot',
  dot_product: 'dot',
  innerproduct: 'dot',
  ip: 'dot',
};

export function headerFrom(members: Map<string, unknown>, firstLength: number | undefined): DatasetHeader {
  const options = isPlainObject(members.get('options')) ? (members.get('options') as Record<string, unknown>) : {};
  const stats = isPlainObject(members.get('stats')) ? (members.get('stats') as Record<string, unknown>) : {};
  const dimension = options.dimension ?? stats.dimension ?? firstLength;
  if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension < 1 || dimension > 65536) {
    throw corruptJson(`it has no valid dimension (found ${JSON.stringify(dimension) ?? 'none'})`);
  }
  const named = String(options.metric ?? stats.metric ?? 'cosine').toLowerCase();
  const metric = (METRICS as readonly string[]).includes(named)
    ? (named as Metric)
    : Object.hasOwn(METRIC_ALIASES, named)
      ? METRIC_ALIASES[named]
      : undefined;
  if (metric === undefined) throw corruptJson(`its metric "${named}" is unknown`);
  const count = stats.count;
  const created = [members.get('createdAt'), members.get('timestamp')].find((t) => typeof t === 'number');
  const header: DatasetHeader = {
    dimension,
    metric,
    // The entry count is only certain after the array; stats.count is the writer's statement of it.
    count: typeof count === 'number' && Number.isInteger(count) && count >= 0 ? count : 0,
    createdAt: (created as number | undefined) ?? 0,
  };
  const metadata = members.get('metadata');
  if (isPlainObject(metadata)) header.metadata = metadata as Metadata;
  return header;
}

function checkVersion(members: Map<string, unknown>): void {
  const version = members.get('formatVersion');
  if (members.get('format') === FORMAT_NAME && typeof version === 'number' && version > FORMAT_VERSION) {
    throw new VecSnapError(
      'VERSION_UNSUPPORTED',
      `The JSON file has format version ${version}; this VecSnap reads version ${FORMAT_VERSION}. Update VecSnap to read it.`,
    );
  }
}

/** Reads `"key":` after the separator (`,` unless it is the first member); null at the closing `}`. */
async function nextKey(r: JsonReader, first: boolean, where: string): Promise<string | null> {
  const c = await r.peek();
  if (c === -1) throw truncatedJson(where);
  if (c === 0x7d) return null;
  if (!first) {
    if (c !== 0x2c) throw corruptJson(`expected "," or "}" at byte ${r.offset} ${where}`);
    r.pos++;
  }
  const at = r.offset;
  const key = await r.value(where);
  if (typeof key !== 'string') throw corruptJson(`expected a key at byte ${at} ${where}`);
  await r.expect(0x3a, '":"', where);
  return key;
}

/** Length of the first entry's vector (for files that state no dimension), without consuming it. */
async function firstVectorLength(r: JsonReader): Promise<number | undefined> {
  for (;;) {
    r.pos = skipWs(r.buf, r.pos);
    if (r.pos < r.buf.length) {
      if (r.buf[r.pos] === 0x5d) return undefined;
      const end = scanValue(r.buf, r.pos);
      if (end >= 0) {
        const entry = r.parse(r.pos, end);
        const vector = isPlainObject(entry) ? entry.vector : undefined;
        return Array.isArray(vector) ? vector.length : isPlainObject(vector) ? Object.keys(vector).length : undefined;
      }
    }
    if (!(await r.more())) throw truncatedJson('inside "vectors"');
  }
}

/**
 * Reads the members before "vectors" into `members` and consumes the array's "["; true when the
 * file is VecSnap JSON (false: the original module's layout).
 */
export async function readJsonHead(r: JsonReader, members: Map<string, unknown>): Promise<boolean> {
  const start = await r.peek();
  if (start === -1) throw truncatedJson('before its first value (it is empty)');
  if (start !== 0x7b) {
    throw new VecSnapError('UNSUPPORTED_FORMAT', 'The file is not a JSON database: it does not start with "{".');
  }
  r.pos++;
  for (let first = true; ; first = false) {
    const key = await nextKey(r, first, 'in its header');
    if (key === null) {
      checkVersion(members);
      throw corruptJson('it has no "vectors" array');
    }
    if (key === 'vectors') break;
    members.set(key, await r.value('in its header'));
    checkVersion(members);
  }
  if ((await r.peek()) !== 0x5b) throw corruptJson('its "vectors" member is not an array');
  r.pos++;
  const ours = members.get('format') === FORMAT_NAME;
  // The original module never wrote a "format" member. One naming something else is a damaged
  // (or foreign) file: read as legacy it would lose its content check without a word.
  if (!ours && members.has('format')) {
    throw corruptJson(`its "format" member is ${JSON.stringify(members.get('format')).slice(0, 60)}, not "${FORMAT_NAME}"`);
  }
  return ours;
}

async function decode(input: AsyncIterable<Buffer>, options: DecodeOptions = {}): Promise<DecodedDataset> {
  const verify = options.verifyChecksum ?? true;
  const r = new JsonReader(input);
  const members = new Map<string, unknown>();
  const legacyHash = verify ? new LegacyChecksum() : undefined;
  let header: DatasetHeader;
  let ours: boolean;
  try {
    await r.skipBom();
    if (legacyHash) r.setTap((bytes) => legacyHash.update(bytes));
    ours = await readJsonHead(r, members);
    if (ours) r.setTap(undefined);
    const stated = [members.get('options'), members.get('stats')].some((m) => isPlainObject(m) && m.dimension !== undefined);
    header = headerFrom(members, stated ? undefined : await firstVectorLength(r));
  } catch (err) {
    await r.close();
    throw err;
  }
  const dim = header.dimension;
  let stored: string | undefined;
  let arrayDone = false;
  let expectValue = true; // after "[" or ","
  let afterComma = false;
  let read = 0;
  /** Entries scanned (ahead of `read` while the number thread works on a chunk). */
  let scanned = 0;
  const slot: Slot = { id: '', metadata: undefined, vectorAt: -1 };
  const threaded = header.count > 0 && header.count * dim >= jsonDecodeTuning.threadMinValues;
  /** Stage buffers free for reuse. */
  const stages: Uint8Array[] = [];

  /**
   * Up to ENTRIES_PER_CHUNK entries, or null when the array ended without another entry. With
   * `staged`, the entries go there (vectors as text for the number thread) and it is returned.
   */
  async function readChunk(staged?: Staged): Promise<EntryChunk | Staged | null> {
    if (!staged) return readEntries(undefined);
    try {
      return await readEntries(staged);
    } catch (err) {
      staged.checkHere(); // an earlier entry's bad vector comes first
      throw err;
    }
  }

  async function readEntries(staged: Staged | undefined): Promise<EntryChunk | Staged | null> {
    let vectors = staged ? null : new Float32Array(ENTRIES_PER_CHUNK * dim);
    const ids: string[] = staged ? staged.ids : [];
    const metadata: (Metadata | undefined)[] = staged ? staged.metadata : [];
    // A staged chunk also ends at STAGE_MAX_BYTES of text: entry offsets are 32-bit, and 2048
    // entries of 65,536 numbers would pass 2 GiB.
    while (ids.length < ENTRIES_PER_CHUNK && !arrayDone && !(staged && staged.length >= STAGE_MAX_BYTES)) {
      const buf = r.buf;
      const i = skipWs(buf, r.pos);
      r.pos = i;
      if (i >= buf.length) {
        if (!(await r.more())) throw truncatedJson('inside "vectors"');
        continue;
      }
      const c = buf[i];
      if (!expectValue || c === 0x5d) {
        if (c === 0x5d && !afterComma) arrayDone = true;
        else if (c === 0x2c && !expectValue) expectValue = afterComma = true;
        else throw corruptJson(`unexpected "${String.fromCharCode(c!)}" at byte ${r.base + i} in "vectors"`);
        r.pos = i + 1;
        continue;
      }
      const at = ids.length * dim;
      let end = fastEntry(buf, i, vectors, at, dim, slot);
      if (end >= 0) {
        if (staged) staged.add(buf, i, end, slot.vectorAt, r.base + i);
      } else {
        end = scanValue(buf, i);
        if (end < 0) {
          if (!(await r.more())) throw truncatedJson('inside "vectors"');
          continue;
        }
        if (vectors) parsedEntry(r.parse(i, end), vectors, at, dim, scanned + ids.length, slot);
        else {
          const vector = new Float32Array(dim);
          parsedEntry(r.parse(i, end), vector, 0, dim, scanned + ids.length, slot);
          staged!.addParsed(vector);
        }
      }
      r.pos = end;
      ids.push(slot.id);
      metadata.push(slot.metadata);
      expectValue = afterComma = false;
    }
    scanned += ids.length;
    if (ids.length === 0) return null;
    if (staged) return staged;
    if (ids.length < ENTRIES_PER_CHUNK) vectors = vectors!.slice(0, ids.length * dim);
    return { ids, vectors: vectors!, metadata };
  }

  /** The chunk of a staged read, its vectors parsed by the number thread (or here, without one). */
  async function finish(staged: Staged): Promise<EntryChunk> {
    try {
      const count = staged.ids.length;
      let parsed: ParsedVectors;
      if (numberThreadReady()) {
        try {
          parsed = await parseVectorsOffThread(staged.bytes.subarray(0, staged.length), staged.starts.subarray(0, count), count, dim);
          staged.bytes = new Uint8Array(parsed.stage.buffer);
        } catch (err) {
          // A job the thread could not do comes back with its text: this thread parses it. A
          // thread that stopped took the text with it, and only the file has it still.
          const stage = err instanceof NumberJobError ? err.returned.stage : undefined;
          if (!stage) {
            throw new VecSnapError('IO_ERROR', `Reading the JSON file failed: its number thread stopped (${(err as Error).message}).`, {
              cause: err,
            });
          }
          staged.bytes = new Uint8Array(stage.buffer);
          parsed = staged.parseHere();
        }
      } else parsed = staged.parseHere();
      const { vectors } = parsed;
      for (const [k, vector] of staged.local) vectors.set(vector, k * dim);
      for (const k of parsed.failed) staged.reparse(k, vectors);
      return { ids: staged.ids, vectors, metadata: staged.metadata };
    } finally {
      stages.push(staged.bytes);
    }
  }

  async function* chunks(): AsyncGenerator<EntryChunk> {
    const digest = verify && ours ? new ContentDigest(dim) : undefined;
    try {
      // With the number thread, chunk k + 1 is scanned while that thread parses chunk k's vectors.
      let pending: Promise<EntryChunk> | undefined;
      while (!arrayDone || pending) {
        throwIfAborted(options.signal, 'Reading the JSON file');
        let next: Promise<EntryChunk> | undefined;
        let ready: EntryChunk | undefined; // read without the number thread
        let failure: { error: unknown } | undefined;
        if (!arrayDone) {
          try {
            const staged = threaded ? new Staged(stages.pop() ?? new Uint8Array(8 << 20), scanned, dim) : undefined;
            const got = await readChunk(staged);
            if (got instanceof Staged) {
              next = finish(got);
              next.catch(() => undefined); // awaited below, after the chunk before it
            } else if (got !== null) ready = got;
          } catch (error) {
            failure = { error };
          }
        }
        if (pending) {
          const chunk = await pending;
          pending = undefined;
          digest?.update(chunk);
          read += chunk.ids.length;
          yield chunk;
        }
        if (failure) throw failure.error;
        if (ready) {
          digest?.update(ready);
          read += ready.ids.length;
          yield ready;
        }
        pending = next;
      }
      for (;;) {
        const key = await nextKey(r, false, 'after "vectors"');
        if (key === null) break;
        if (key === 'vectors') throw corruptJson('it has a second "vectors" member');
        members.set(key, await r.value('after "vectors"'));
      }
      r.pos++;
      for (;;) {
        r.pos = skipWs(r.buf, r.pos);
        if (r.pos < r.buf.length) throw corruptJson(`there is data after the end of the JSON object (at byte ${r.offset})`);
        if (!(await r.more())) break;
      }
      if (members.has('count') && members.get('count') !== read) {
        throw corruptJson(`it declares ${JSON.stringify(members.get('count'))} entries but holds ${read}`);
      }
      if (ours) {
        const checksum = members.get('contentChecksum');
        stored = typeof checksum === 'string' ? checksum : undefined;
        // VecSnap always writes it: without it (a damaged or cut trailer) nothing would be checked.
        if (digest && stored === undefined) throw corruptJson('its trailer has no "contentChecksum"');
        if (digest && digest.digest() !== stored) {
          throw new VecSnapError(
            'CHECKSUM_MISMATCH',
            'The content checksum of the JSON file does not match its data: the file was changed or damaged.',
          );
        }
        return;
      }
      // The original module put `timestamp` and any dataset `metadata` after the vectors.
      const timestamp = members.get('timestamp');
      if (header.createdAt === 0 && typeof timestamp === 'number') header.createdAt = timestamp;
      const metadata = members.get('metadata');
      if (header.metadata === undefined && isPlainObject(metadata)) header.metadata = metadata as Metadata;
      const checksum = members.get('checksum');
      if (legacyHash && typeof checksum === 'string' && legacyHash.found && legacyHash.closed) {
        if (legacyHash.digest() === checksum) stored = checksum;
        else {
          // The original wrote database.json pretty-printed; hashing ignores whitespace, so any
          // file it wrote verifies. A mismatch is damage, or a rewrite by another tool: refuse,
          // and say how to load it anyway. A damaged snapshot must never load silently.
          throw new VecSnapError(
            'CHECKSUM_MISMATCH',
            'The checksum stored in this database file does not match its content: the file was changed or damaged' +
              (legacyHash.sawWhitespace || !legacyHash.checksumLast ? ' (or reformatted by another program)' : '') +
              '. Load it with verifyChecksum: false only if you trust its content.',
          );
        }
      }
    } finally {
      forgetParsedBuffer();
      await r.close();
    }
  }

  return { header, chunks: chunks(), storedChecksum: () => stored, legacy: !ours };
}

/**
 * The JSON format. Decoding notes: `header.count` is `stats.count` (0 when the file has none; the
 * entries actually read are checked against the trailer's `count`). For files of the original
 * module, `header.createdAt` and `header.metadata` are completed in place once `chunks` is
 * drained (they follow the vectors there), and their `checksum` is verified when present and
 * `storedChecksum()` reports it only when it was verified (see LegacyChecksum).
 */
export const jsonCodec: StreamCodec = { format: 'json', encode, decode };
