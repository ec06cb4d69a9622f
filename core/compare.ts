import { throwIfAborted } from './errors.js';
import { openDatasetFile, type OpenedDataset } from './formats/dataset-io.js';
import { ProgressReporter } from './io/progress.js';
import type { EntryChunk, LongOperationOptions } from './types.js';

export interface ContentDiff {
  /** Ids in B that are not in A. */
  added: number;
  /** Ids in A that are not in B. */
  removed: number;
  /** Ids in both whose vector or metadata differ. */
  changed: number;
  unchanged: number;
  vectorsChanged: number;
  metadataChanged: number;
  /** Up to `sampleSize` ids of each kind, in file order (changed ones in B's order). */
  samples: { added: string[]; removed: string[]; changed: string[] };
}

/** A diff with nothing counted yet; `unchanged` preset for two files known to hold the same content. */
export function emptyContentDiff(unchanged = 0): ContentDiff {
  return {
    added: 0,
    removed: 0,
    changed: 0,
    unchanged,
    vectorsChanged: 0,
    metadataChanged: 0,
    samples: { added: [], removed: [], changed: [] },
  };
}

export interface CompareContentOptions extends LongOperationOptions {
  sampleSize?: number;
  verifyChecksum?: boolean;
}

/** Bits of `differ`'s answer. */
export const VECTOR_DIFFERS = 1;
export const METADATA_DIFFERS = 2;

/** How the diff reads the entries of one kind of chunk. */
export interface EntryAccess<C> {
  count(chunk: C): number;
  id(chunk: C, i: number): string;
  /** VECTOR_DIFFERS | METADATA_DIFFERS for entry i of a chunk of A against entry k of one of B. */
  differ(a: C, i: number, b: C, k: number): number;
  /** Entry i alone, copied: an entry that waits must not keep its whole chunk in memory. */
  single(chunk: C, i: number): C;
}

/** An entry read from one side that the other side has not matched yet. */
interface Waiting<C> {
  /** A chunk of this one entry (see EntryAccess.single). */
  entry: C;
  /** Position in its own file: samples are reported in file order. */
  position: number;
}

/** One side's stream, read a chunk ahead so both decoders work while entries are compared. */
class Side<C> {
  private next: Promise<IteratorResult<C>> | undefined;
  chunk: C | undefined;
  /** Entries in `chunk`. */
  length = 0;
  /** Index in `chunk` of the entry to take next. */
  at = 0;
  /** Entries taken so far. */
  position = 0;
  done = false;
  /** Entries of this side waiting for the other, in this side's file order. */
  readonly waiting = new Map<string, Waiting<C>>();

  constructor(
    private readonly chunks: AsyncIterator<C>,
    private readonly access: EntryAccess<C>,
  ) {
    this.next = this.chunks.next();
  }

  /** True when `chunk[at]` is an entry; false at the end of the file. */
  async ready(): Promise<boolean> {
    while (!this.done && (this.chunk === undefined || this.at >= this.length)) {
      const result = await this.next!;
      if (result.done) {
        this.done = true;
        this.chunk = undefined;
        this.next = undefined;
        break;
      }
      this.chunk = result.value;
      this.length = this.access.count(result.value);
      this.at = 0;
      this.next = this.chunks.next();
      // A rejected prefetch is reported when it is awaited, not as an unhandled rejection.
      this.next.catch(() => undefined);
    }
    return !this.done;
  }

  /** Waits for the prefetch to settle so closing never races a read in flight. */
  async settle(): Promise<void> {
    await this.next?.catch(() => undefined);
  }
}

function metaText(chunk: EntryChunk, i: number): string | undefined {
  const m = chunk.metadata[i];
  return m === undefined || m === null ? undefined : JSON.stringify(m);
}

export function sameBits(a: Uint32Array, offA: number, b: Uint32Array, offB: number, n: number): boolean {
  for (let j = 0; j < n; j++) if (a[offA + j] !== b[offB + j]) return false;
  return true;
}

/** A decoded chunk with its vectors seen as bits (NaN payloads and -0 compare exactly). */
interface BitsChunk {
  chunk: EntryChunk;
  bits: Uint32Array;
}

function bitsChunk(chunk: EntryChunk): BitsChunk {
  return { chunk, bits: new Uint32Array(chunk.vectors.buffer, chunk.vectors.byteOffset, chunk.vectors.length) };
}

async function* withBits(chunks: AsyncIterable<EntryChunk>): AsyncGenerator<BitsChunk> {
  for await (const chunk of chunks) yield bitsChunk(chunk);
}

function decodedAccess(dimA: number, dimB: number): EntryAccess<BitsChunk> {
  const sameDim = dimA === dimB;
  return {
    count: (c) => c.chunk.ids.length,
    id: (c, i) => c.chunk.ids[i]!,
    differ: (a, i, b, k) =>
      (sameDim && sameBits(a.bits, i * dimA, b.bits, k * dimB, dimA) ? 0 : VECTOR_DIFFERS) |
      (metaText(a.chunk, i) === metaText(b.chunk, k) ? 0 : METADATA_DIFFERS),
    single: (c, i) => {
      const dim = c.chunk.vectors.length / c.chunk.ids.length;
      return bitsChunk({
        ids: [c.chunk.ids[i]!],
        vectors: c.chunk.vectors.slice(i * dim, (i + 1) * dim),
        metadata: [c.chunk.metadata[i]],
      });
    },
  };
}

/**
 * The diff of two entry streams. Both are read at once, in step. Two snapshots of one database
 * list their entries in the same order (updates keep their place, inserts go to the end), so
 * nearly every entry meets its counterpart at the same step and is compared and dropped at once;
 * only entries out of step wait (copied out of their chunk) in a map until the other side reaches
 * them. Memory follows how far the files differ in order, not their size, and neither reader
 * waits for the other to finish.
 */
export async function diffEntries<C>(
  chunksA: AsyncIterator<C>,
  chunksB: AsyncIterator<C>,
  access: EntryAccess<C>,
  options: { sampleSize?: number; signal?: AbortSignal | undefined },
): Promise<ContentDiff> {
  const sampleSize = options.sampleSize ?? 20;
  const a = new Side(chunksA, access);
  const b = new Side(chunksB, access);
  try {
    const diff = emptyContentDiff();
    // Changed entries are found out of B's order when they were out of step; keep the earliest.
    const changedSamples: { id: string; position: number }[] = [];

    const record = (id: string, positionB: number, differs: number): void => {
      if (differs === 0) {
        diff.unchanged++;
        return;
      }
      diff.changed++;
      if (differs & VECTOR_DIFFERS) diff.vectorsChanged++;
      if (differs & METADATA_DIFFERS) diff.metadataChanged++;
      if (sampleSize > 0) {
        changedSamples.push({ id, position: positionB });
        if (changedSamples.length >= 4 * sampleSize) {
          changedSamples.sort((x, y) => x.position - y.position);
          changedSamples.length = sampleSize;
        }
      }
    };

    /** Takes the current entry of `side`: matched against what `other` left waiting, or left to wait. */
    const take = (side: Side<C>, other: Side<C>, sideIsA: boolean): void => {
      const chunk = side.chunk!;
      const i = side.at++;
      const position = side.position++;
      const id = access.id(chunk, i);
      const match = other.waiting.get(id);
      if (match === undefined) {
        side.waiting.set(id, { entry: access.single(chunk, i), position });
        return;
      }
      other.waiting.delete(id);
      const differs = sideIsA ? access.differ(chunk, i, match.entry, 0) : access.differ(match.entry, 0, chunk, i);
      record(id, sideIsA ? match.position : position, differs);
    };

    for (;;) {
      throwIfAborted(options.signal, 'Comparing');
      const [hasA, hasB] = await Promise.all([a.ready(), b.ready()]);
      if (!hasA && !hasB) break;
      if (hasA && hasB) {
        const chunkA = a.chunk!;
        const chunkB = b.chunk!;
        // The common case: both files in step, compared without touching the maps.
        const steps = Math.min(a.length - a.at, b.length - b.at);
        for (let s = 0; s < steps; s++) {
          const i = a.at;
          const k = b.at;
          const id = access.id(chunkA, i);
          if (id !== access.id(chunkB, k)) {
            // Out of step: each entry matches what the other side left waiting, or waits itself.
            // (Ids are unique within a file, so an id both sides hold at this step waits nowhere.)
            take(a, b, true);
            take(b, a, false);
            continue;
          }
          a.at++;
          b.at++;
          a.position++;
          record(id, b.position++, access.differ(chunkA, i, chunkB, k));
        }
      } else if (hasA) {
        take(a, b, true);
      } else {
        take(b, a, false);
      }
    }

    // Maps keep insertion order, which is each file's order.
    for (const id of a.waiting.keys()) {
      diff.removed++;
      if (diff.samples.removed.length < sampleSize) diff.samples.removed.push(id);
    }
    for (const id of b.waiting.keys()) {
      diff.added++;
      if (diff.samples.added.length < sampleSize) diff.samples.added.push(id);
    }
    changedSamples.sort((x, y) => x.position - y.position);
    diff.samples.changed = changedSamples.slice(0, sampleSize).map((c) => c.id);
    return diff;
  } finally {
    await a.settle();
    await b.settle();
  }
}

/** Exact content diff of two dataset files; vectors compare bit for bit, metadata as JSON text (see diffEntries). */
export async function compareDatasetFiles(fileA: string, fileB: string, options: CompareContentOptions = {}): Promise<ContentDiff> {
  const progress = new ProgressReporter('compare', options.onProgress);
  const verify = options.verifyChecksum ?? true;
  let bytesA = 0;
  let bytesB = 0;
  let totalBytes = 0;
  const report = (): void =>
    progress.update({ current: bytesA + bytesB, total: totalBytes, bytesDone: bytesA + bytesB, bytesTotal: totalBytes, phase: 'comparing' });
  const signal = options.signal ? { signal: options.signal } : {};

  const datasetA = await openDatasetFile(fileA, {
    verifyChecksum: verify,
    ...signal,
    onBytes: (n) => {
      bytesA = n;
      report();
    },
  });
  let datasetB: OpenedDataset | undefined;
  try {
    datasetB = await openDatasetFile(fileB, {
      verifyChecksum: verify,
      ...signal,
      onBytes: (n) => {
        bytesB = n;
        report();
      },
    });
    totalBytes = datasetA.fileSize + datasetB.fileSize;
    const diff = await diffEntries(
      withBits(datasetA.chunks),
      withBits(datasetB.chunks),
      decodedAccess(datasetA.header.dimension, datasetB.header.dimension),
      options,
    );
    progress.done('Comparison finished', { current: totalBytes, total: totalBytes });
    return diff;
  } finally {
    await datasetA.close();
    await datasetB?.close();
  }
}
