import { VecSnapError } from './errors.js';
import type { EntryChunk, Metadata, Metric, StoredEntry, VectorEntry } from './types.js';
import { METRICS } from './types.js';
import { ChangeLog, type ChangeCounts, type ChangeSet } from './change-log.js';
import { ChunkMemory } from './chunk-memory.js';
import { adviseHugePages } from './io/huge-pages.js';
import { exactSearch, type SearchQuery, type SearchResult } from './search.js';
import { cloneMetadata, firstNonFinite, toFloat32Vector, validateDimension, validateId } from './validation.js';

export interface VectorDBOptions {
  dimension: number;
  metric?: Metric;
  /** Slots to reserve up front (the slab grows by doubling otherwise). */
  initialCapacity?: number;
}

export type { SearchQuery, SearchResult } from './search.js';

export interface DBStats {
  count: number;
  dimension: number;
  metric: Metric;
  memoryBytes: number;
}

const COMPACT_MIN_HOLES = 1024;
/**
 * Past this many tracked ids (and half the database) a delta could not beat a full save, so the
 * log collapses to "full save due" — also sparing a multi-second walk of millions of entries.
 */
const CHANGE_LOG_MIN_COLLAPSE = 65_536;

/**
 * An in-memory vector store: one contiguous float32 slab, an id → slot map, insertion order kept
 * by slot order (deletes leave holes that are compacted away later), exact k-NN search, and
 * change tracking for incremental saves.
 */
export type { ChangeSet, ChangeCounts };

/** Vector storage: huge pages under it when the system gives them (huge-pages.ts says why). */
function newSlab(values: number): Float32Array {
  const slab = new Float32Array(values);
  adviseHugePages(slab.buffer);
  return slab;
}

/** Sizes below 1 become 1 and fractions are floored; NaN or a non-number is refused (it would never advance). */
function checkChunkSize(chunkSize: number): number {
  if (typeof chunkSize !== 'number' || Number.isNaN(chunkSize)) {
    throw new VecSnapError('INVALID_ARGUMENT', `A chunk size must be a number (got ${String(chunkSize)}).`);
  }
  return Math.max(1, Math.floor(chunkSize));
}

export class VectorDB {
  private dim: number;
  private metricName: Metric;
  private slab: Float32Array;
  private norms: Float64Array;
  private slotIds: (string | undefined)[] = [];
  private slotMeta: (Metadata | undefined)[] = [];
  private slotMetaBytes: number[] = [];
  private slotOf = new Map<string, number>();
  private used = 0;
  private holes = 0;
  private metaBytes = 0;
  private idBytes = 0;
  private readers = 0;
  /** Bumped by clear() and replaceContents(): open iterations end instead of reading new slots. */
  private generation = 0;
  private readonly changes = new ChangeLog();
  /** Chunk memory readChunksFor keeps between calls (two arrays at most; see there). */
  private readonly deltaMemory = new ChunkMemory(2);
  private mutations = 0;

  constructor(options: VectorDBOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new VecSnapError('INVALID_ARGUMENT', 'VectorDB needs an options object with a dimension.');
    }
    this.dim = validateDimension(options.dimension);
    const metric = options.metric ?? 'cosine';
    if (!METRICS.includes(metric)) {
      throw new VecSnapError('INVALID_ARGUMENT', `Unknown metric "${String(metric)}"; use cosine, euclidean or dot.`);
    }
    this.metricName = metric;
    const capacity = Math.max(16, options.initialCapacity ?? 0);
    this.slab = newSlab(capacity * this.dim);
    this.norms = new Float64Array(capacity);
  }

  get dimension(): number {
    return this.dim;
  }

  get metric(): Metric {
    return this.metricName;
  }

  /** Number of live entries. */
  get size(): number {
    return this.slotOf.size;
  }

  /** Increases on every mutation; lets callers detect change cheaply. */
  get version(): number {
    return this.mutations;
  }

  insert(entry: VectorEntry): void {
    if (typeof entry !== 'object' || entry === null) {
      throw new VecSnapError('INVALID_ARGUMENT', 'insert() needs an entry object { id, vector, metadata? }.');
    }
    const id = validateId(entry.id);
    const vector = toFloat32Vector(id, entry.vector, this.dim);
    const meta = entry.metadata === undefined ? undefined : cloneMetadata(id, entry.metadata);
    this.put(id, vector, 0, meta?.value, meta?.approxBytes ?? 0);
  }

  /** Validates every entry before inserting any, so a bad batch changes nothing. */
  insertBatch(entries: readonly VectorEntry[]): number {
    if (!Array.isArray(entries)) {
      throw new VecSnapError('INVALID_ARGUMENT', 'insertBatch() needs an array of entries.');
    }
    const prepared: { id: string; vector: Float32Array; meta?: { value: Metadata; approxBytes: number } }[] = [];
    for (const entry of entries) {
      if (typeof entry !== 'object' || entry === null) {
        throw new VecSnapError('INVALID_ARGUMENT', 'insertBatch() entries must be objects { id, vector, metadata? }.');
      }
      const id = validateId(entry.id);
      const vector = toFloat32Vector(id, entry.vector, this.dim);
      const meta = entry.metadata === undefined ? undefined : cloneMetadata(id, entry.metadata);
      prepared.push(meta ? { id, vector, meta } : { id, vector });
    }
    this.reserve(this.used + prepared.length);
    for (const p of prepared) this.put(p.id, p.vector, 0, p.meta?.value, p.meta?.approxBytes ?? 0);
    return prepared.length;
  }

  /**
   * Bulk insert of a decoded chunk (what loaders call). Vectors are checked for NaN/Infinity and
   * metadata for JSON-ness; a failure names the entry and inserts nothing of this chunk. `owned`:
   * the chunk's metadata objects are fresh from a decoder, so they are kept instead of copied.
   * `trackChanges: false` is for a database being filled from a file it will be marked saved
   * against (load, restore): recording 100k inserts only to discard them costs a tenth of a load.
   */
  insertChunk(chunk: EntryChunk, owned = false, trackChanges = true): void {
    const n = chunk.ids.length;
    const dim = this.dim;
    if (chunk.vectors.length !== n * dim || chunk.metadata.length !== n) {
      throw new VecSnapError(
        'CORRUPT_FILE',
        `A block of ${n} entries holds ${chunk.vectors.length} vector components; expected ${n * dim}.`,
      );
    }
    const metas: ({ value: Metadata; approxBytes: number } | undefined)[] = new Array(n);
    const ids: string[] = new Array(n);
    // One pass over all the chunk's components; the entry is named only when one is bad.
    const bad = firstNonFinite(chunk.vectors);
    if (bad >= 0) {
      const entry = Math.floor(bad / dim);
      throw new VecSnapError(
        'INVALID_VECTOR',
        `The vector of "${validateId(chunk.ids[entry])}" has a non-finite component at index ${bad - entry * dim} (${chunk.vectors[bad]}).`,
      );
    }
    for (let i = 0; i < n; i++) {
      const id = validateId(chunk.ids[i]);
      ids[i] = id;
      const m = chunk.metadata[i];
      metas[i] = m === undefined || m === null ? undefined : cloneMetadata(id, m, owned);
    }
    this.reserve(this.used + n);
    // New ids take consecutive slots, so each run of them is one block copy into the slab.
    let runFrom = -1;
    let runSlot = 0;
    const flushRun = (to: number): void => {
      if (runFrom < 0) return;
      this.slab.set(chunk.vectors.subarray(runFrom * dim, to * dim), runSlot * dim);
      runFrom = -1;
    };
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      const meta = metas[i];
      if (this.slotOf.has(id)) {
        // An update (or a repeat within the chunk): earlier entries must land first.
        flushRun(i);
        this.put(id, chunk.vectors, i * dim, meta?.value, meta?.approxBytes ?? 0, trackChanges);
        continue;
      }
      const slot = this.used++;
      if (runFrom < 0) {
        runFrom = i;
        runSlot = slot;
      }
      this.slotOf.set(id, slot);
      this.slotIds[slot] = id;
      this.idBytes += id.length * 2;
      const metaBytes = meta?.approxBytes ?? 0;
      this.slotMetaBytes[slot] = metaBytes;
      this.metaBytes += metaBytes;
      this.slotMeta[slot] = meta?.value;
      this.norms[slot] = NaN;
      this.mutations++;
      if (trackChanges) {
        this.changes.record(id, 'insert');
        this.collapseChangeLogIfLarge();
      }
    }
    flushRun(n);
  }

  get(id: string): StoredEntry | undefined {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return undefined;
    return this.entryAt(slot);
  }

  has(id: string): boolean {
    return this.slotOf.has(id);
  }

  delete(id: string): boolean {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    this.slotOf.delete(id);
    this.slotIds[slot] = undefined;
    this.slotMeta[slot] = undefined;
    this.metaBytes -= this.slotMetaBytes[slot]!;
    this.idBytes -= id.length * 2;
    this.slotMetaBytes[slot] = 0;
    this.holes++;
    this.mutations++;
    this.changes.record(id, 'delete');
    this.collapseChangeLogIfLarge();
    this.maybeCompact();
    return true;
  }

  clear(): void {
    this.generation++;
    this.slotIds = [];
    this.slotMeta = [];
    this.slotMetaBytes = [];
    this.slotOf.clear();
    this.used = 0;
    this.holes = 0;
    this.metaBytes = 0;
    this.idBytes = 0;
    this.slab = new Float32Array(16 * this.dim);
    this.norms = new Float64Array(16);
    this.mutations++;
    this.changes.reset(true);
  }

  stats(): DBStats {
    return {
      count: this.size,
      dimension: this.dim,
      metric: this.metricName,
      memoryBytes:
        this.slab.byteLength + this.norms.byteLength + this.idBytes + this.metaBytes + this.size * 64,
    };
  }

  search(query: SearchQuery): SearchResult[] {
    if (typeof query !== 'object' || query === null) {
      throw new VecSnapError('INVALID_ARGUMENT', 'search() needs { vector, k }.');
    }
    const q = toFloat32Vector('query', query.vector, this.dim);
    const k = query.k ?? 10;
    if (!Number.isInteger(k) || k < 1) {
      throw new VecSnapError('INVALID_ARGUMENT', `k must be a positive integer (got ${String(k)}).`);
    }
    if (query.filter !== undefined && typeof query.filter !== 'function') {
      throw new VecSnapError('INVALID_ARGUMENT', 'search() filter must be a function (metadata, id) => boolean.');
    }
    // A filter may mutate the database; holding a read keeps compaction from moving slots mid-scan.
    this.readers++;
    try {
      return this.scan(q, k, query.filter);
    } finally {
      this.release();
    }
  }

  private scan(q: Float32Array, k: number, filter: SearchQuery['filter']): SearchResult[] {
    return exactSearch({
      query: q,
      k,
      dimension: this.dim,
      metric: this.metricName,
      slab: this.slab,
      norms: this.norms,
      slotIds: this.slotIds,
      slotMeta: this.slotMeta,
      used: this.used,
      ...(filter ? { filter } : {}),
    });
  }

  /**
   * Entries in insertion order; vectors are copies the caller may keep. Finish the iteration (or
   * break out of a for-of): compaction waits while an iteration is open.
   */
  *entries(): IterableIterator<StoredEntry> {
    const generation = this.generation;
    this.readers++;
    try {
      for (let slot = 0; slot < this.used && this.generation === generation; slot++) {
        if (this.slotIds[slot] !== undefined) yield this.entryAt(slot);
      }
    } finally {
      this.release();
    }
  }

  *ids(): IterableIterator<string> {
    const generation = this.generation;
    this.readers++;
    try {
      for (let slot = 0; slot < this.used && this.generation === generation; slot++) {
        const id = this.slotIds[slot];
        if (id !== undefined) yield id;
      }
    } finally {
      this.release();
    }
  }

  /**
   * The database as chunks of up to `chunkSize` entries in insertion order — what every save
   * streams. Vectors are copied: a write that is still buffered must not see later updates.
   * Entries inserted while the iteration runs are not included; compaction waits until it ends.
   *
   * `recycle` (what the engine's own writers ask for): chunks carry EntryChunk.recycle, and a
   * chunk's copy is refilled for a later chunk once its consumer handed it back and it is free.
   * Such vectors may lie in shared memory that the hashing thread reads in place
   * (io/shared-bytes.ts), whose buffer is longer than the vectors and cannot be transferred.
   */
  *readChunks(chunkSize: number, options: { recycle?: boolean } = {}): IterableIterator<EntryChunk> {
    const size = checkChunkSize(chunkSize);
    const end = this.used;
    const dim = this.dim;
    const generation = this.generation;
    const recycled = options.recycle ? new ChunkMemory() : undefined;
    this.readers++;
    try {
      let slot = 0;
      while (slot < end && this.generation === generation) {
        const ids: string[] = [];
        const metadata: (Metadata | undefined)[] = [];
        const length = Math.min(size, end - slot) * dim;
        const vectors = recycled ? recycled.take(length) : new Float32Array(length);
        let n = 0;
        while (slot < end && n < size) {
          const id = this.slotIds[slot];
          if (id !== undefined) {
            // Runs of live slots are copied in one go: the common case has no holes.
            let runEnd = slot + 1;
            while (runEnd < end && n + (runEnd - slot) < size && this.slotIds[runEnd] !== undefined) runEnd++;
            vectors.set(this.slab.subarray(slot * dim, runEnd * dim), n * dim);
            for (let s = slot; s < runEnd; s++) {
              ids.push(this.slotIds[s]!);
              metadata.push(this.slotMeta[s]);
            }
            n += runEnd - slot;
            slot = runEnd;
          } else {
            slot++;
          }
        }
        if (n * dim === vectors.length) {
          yield recycled ? { ids, metadata, vectors, recycle: recycled.giveBack(vectors) } : { ids, metadata, vectors };
        } else {
          // Deleted slots made the chunk shorter: it gets an array of its own length.
          const exact = vectors.slice(0, n * dim);
          recycled?.giveBack(vectors)(() => true);
          if (n > 0) yield { ids, metadata, vectors: exact };
        }
      }
    } finally {
      this.release();
    }
  }

  /**
   * The live entries among `ids`, in insertion order, as chunks (what a delta writes). Ids that
   * are no longer present are skipped.
   *
   * `recycle`: as for readChunks, but the memory handed back is kept by the database for the next
   * call too (deltaMemory), since each incremental save reads its changes through here. Copying
   * a 1% delta of 100k × 384 into new memory took 1.3 ms of faults on this machine's VM, into
   * reused memory 0.5 ms. Arrays are sized to a power of two of entries (at most the chunk size)
   * so that deltas of about the same size share one; chunks are views of their start.
   */
  *readChunksFor(ids: Iterable<string>, chunkSize: number, options: { recycle?: boolean } = {}): IterableIterator<EntryChunk> {
    const found: number[] = [];
    for (const id of ids) {
      const slot = this.slotOf.get(id);
      if (slot !== undefined) found.push(slot);
    }
    // A typed array sorts numerically without a comparator call per pair; repeats are skipped below.
    const slots = Uint32Array.from(found).sort();
    const dim = this.dim;
    const size = checkChunkSize(chunkSize);
    const generation = this.generation;
    this.readers++;
    try {
      let next = 0;
      while (next < slots.length && this.generation === generation) {
        const part: number[] = [];
        for (; next < slots.length && part.length < size; next++) {
          const slot = slots[next]!;
          if ((next === 0 || slot !== slots[next - 1]) && this.slotIds[slot] !== undefined) part.push(slot);
        }
        if (part.length === 0) break;
        const memory = options.recycle ? this.deltaMemory.take(Math.min(size, 2 ** Math.ceil(Math.log2(part.length))) * dim) : undefined;
        const vectors = memory ? memory.subarray(0, part.length * dim) : new Float32Array(part.length * dim);
        const ids: string[] = new Array<string>(part.length);
        const metadata: (Metadata | undefined)[] = new Array<Metadata | undefined>(part.length);
        for (let i = 0; i < part.length; i++) {
          const slot = part[i]!;
          vectors.set(this.slab.subarray(slot * dim, (slot + 1) * dim), i * dim);
          ids[i] = this.slotIds[slot]!;
          metadata[i] = this.slotMeta[slot];
        }
        yield memory ? { ids, metadata, vectors, recycle: this.deltaMemory.giveBack(memory) } : { ids, metadata, vectors };
      }
    } finally {
      this.release();
    }
  }

  // ---- change tracking (see change-log.ts) ------------------------------------------------

  /** True when something changed since the last mark (what "unsaved changes" means). */
  hasChanges(): boolean {
    return this.changes.hasChanges();
  }

  changeCounts(): ChangeCounts {
    return this.changes.counts();
  }

  /**
   * Returns the changes since the last mark and starts a new mark. Changes made while the
   * caller writes them go into the new mark; on failure, hand the set back with restoreChanges.
   */
  takeChanges(): ChangeSet {
    return this.changes.take();
  }

  /** Merges a taken change set back (its save failed), under changes made since. */
  restoreChanges(set: ChangeSet): void {
    this.changes.restore(set);
  }

  /** Declares the current content saved (after loading exactly what is on disk). */
  markSaved(): void {
    this.changes.reset(false);
  }

  /** Declares that only a full save can capture the current content. */
  markNeedsFullSave(): void {
    this.changes.reset(true);
  }

  /**
   * Takes over the whole content of `other` (dimension and metric included) in one step —
   * how load, import and restore swap in a database they built on the side. `other` is emptied.
   */
  replaceContents(other: VectorDB): void {
    if (other === this) return;
    this.generation++;
    this.dim = other.dim;
    this.metricName = other.metricName;
    this.slab = other.slab;
    this.norms = other.norms;
    this.slotIds = other.slotIds;
    this.slotMeta = other.slotMeta;
    this.slotMetaBytes = other.slotMetaBytes;
    this.slotOf = other.slotOf;
    this.used = other.used;
    this.holes = other.holes;
    this.metaBytes = other.metaBytes;
    this.idBytes = other.idBytes;
    this.mutations++;
    // The donor gets new containers: clear() would empty the ones this database now owns.
    other.slotOf = new Map();
    other.clear();
    // No delta can describe a wholesale replace; callers that know better (load) mark it saved.
    this.changes.reset(true);
    this.maybeCompact();
  }

  /** Upserts every entry of `other` into this database (import without clear). */
  mergeFrom(other: VectorDB): void {
    if (other.dim !== this.dim) {
      throw new VecSnapError(
        'DIMENSION_MISMATCH',
        `Cannot merge vectors of dimension ${other.dim} into a database of dimension ${this.dim}.`,
      );
    }
    this.reserve(this.used + other.size);
    for (let slot = 0; slot < other.used; slot++) {
      const id = other.slotIds[slot];
      if (id === undefined) continue;
      this.put(id, other.slab, slot * other.dim, other.slotMeta[slot], other.slotMetaBytes[slot]!);
    }
  }

  // ---- internals -------------------------------------------------------------------------

  private entryAt(slot: number): StoredEntry {
    const entry: StoredEntry = {
      id: this.slotIds[slot]!,
      vector: this.slab.slice(slot * this.dim, (slot + 1) * this.dim),
    };
    const metadata = this.slotMeta[slot];
    if (metadata !== undefined) entry.metadata = structuredClone(metadata);
    return entry;
  }

  private put(id: string, source: Float32Array, offset: number, meta: Metadata | undefined, metaBytes: number, trackChanges = true): void {
    let slot = this.slotOf.get(id);
    const isNew = slot === undefined;
    if (slot === undefined) {
      this.reserve(this.used + 1);
      slot = this.used++;
      this.slotOf.set(id, slot);
      this.slotIds[slot] = id;
      this.idBytes += id.length * 2;
      this.slotMetaBytes[slot] = 0;
    }
    const dim = this.dim;
    this.slab.set(source.subarray(offset, offset + dim), slot * dim);
    // Computed by the first cosine search that reaches this slot: a load of 100k × 384 would
    // otherwise spend ~40 ms on norms whether anyone searches or not.
    this.norms[slot] = NaN;
    this.metaBytes += metaBytes - this.slotMetaBytes[slot]!;
    this.slotMetaBytes[slot] = metaBytes;
    this.slotMeta[slot] = meta;
    this.mutations++;
    if (trackChanges) {
      this.changes.record(id, isNew ? 'insert' : 'update');
      this.collapseChangeLogIfLarge();
    }
  }


  private collapseChangeLogIfLarge(): void {
    const size = this.changes.size;
    if (size > CHANGE_LOG_MIN_COLLAPSE && size * 2 > this.slotOf.size) this.changes.reset(true);
  }

  private reserve(slots: number): void {
    const capacity = this.norms.length;
    if (slots <= capacity) return;
    let next = Math.max(capacity * 2, 16);
    while (next < slots) next *= 2;
    const slab = newSlab(next * this.dim);
    slab.set(this.slab.subarray(0, this.used * this.dim));
    const norms = new Float64Array(next);
    norms.set(this.norms.subarray(0, this.used));
    this.slab = slab;
    this.norms = norms;
  }

  private release(): void {
    this.readers--;
    this.maybeCompact();
  }

  /** Squeezes out deleted slots once they are a quarter of the slab; never during a read. */
  private maybeCompact(): void {
    if (this.readers > 0 || this.holes < COMPACT_MIN_HOLES || this.holes * 4 < this.used) return;
    const dim = this.dim;
    let write = 0;
    for (let read = 0; read < this.used; read++) {
      const id = this.slotIds[read];
      if (id === undefined) continue;
      if (write !== read) {
        this.slab.copyWithin(write * dim, read * dim, (read + 1) * dim);
        this.norms[write] = this.norms[read]!;
        this.slotIds[write] = id;
        this.slotMeta[write] = this.slotMeta[read];
        this.slotMetaBytes[write] = this.slotMetaBytes[read]!;
        this.slotOf.set(id, write);
      }
      write++;
    }
    this.slotIds.length = write;
    this.slotMeta.length = write;
    this.slotMetaBytes.length = write;
    this.used = write;
    this.holes = 0;
  }
}
