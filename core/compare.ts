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

/** An entry read from one side that the other side has not matched yet. */
interface Waiting {
  bits: Uint32Array;
  meta: string | undefined;
  /** Position in its own file: samples are reported in file order. */
  position: number;
}

/** One side's stream, read a chunk ahead so both decoders work while entries are compared. */
class Side {
  private readonly chunks: AsyncIterator<EntryChunk>;
  private next: Promise<IteratorResult<EntryChunk>> | undefined;
  chunk: EntryChunk | undefined;
  bits: Uint32Array = new Uint32Array(0);
  /** Index in `chunk` of the entry to take next. */
  at = 0;
  /** Entries taken so far. */
  position = 0;
  done = false;
  /** Entries of this side waiting for the other, in this side's file order. */
  readonly waiting = new Map<string, Waiting>();

  constructor(dataset: OpenedDataset) {
    this.chunks = dataset.chunks[Symbol.asyncIterator]();
    this.next = this.chunks.next();
  }

  /** True when `chunk[at]` is an entry; false at the end of the file. */
  async ready(): Promise<boolean> {
    while (!this.done && (this.chunk === undefined || this.at >= this.chunk.ids.length)) {
      const result = await this.next!;
      if (result.done) {
        this.done = true;
        this.chunk = undefined;
        this.next = undefined;
        break;
      }
      this.chunk = result.value;
      this.bits = new Uint32Array(result.value.vectors.buffer, result.value.vectors.byteOffset, result.value.vectors.length);
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

function sameBits(a: Uint32Array, offA: number, b: Uint32Array, offB: number, n: number): boolean {
  for (let j = 0; j < n; j++) if (a[offA + j] !== b[offB + j]) return false;
  return true;
}

/**
 * Exact content diff of two dataset files; vectors compare bit for bit, metadata as JSON text.
 *
 * Both files are read at once, in step. Two snapshots of one database list their entries in the
 * same order (updates keep their place, inserts go to the end), so nearly every entry meets its
 * counterpart at the same step and is compared and dropped at once; only entries out of step wait
 * in a map until the other side reaches them. Memory follows how far the files differ in order,
 * not their size, and neither decoder waits for the other to finish.
 */
export async function compareDatasetFiles(fileA: string, fileB: string, options: CompareContentOptions = {}): Promise<ContentDiff> {
  const sampleSize = options.sampleSize ?? 20;
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
  let a: Side | undefined;
  let b: Side | undefined;
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
    a = new Side(datasetA);
    b = new Side(datasetB);
    const dimA = datasetA.header.dimension;
    const dimB = datasetB.header.dimension;
    const sameDim = dimA === dimB;
    const diff = emptyContentDiff();
    // Changed entries are found out of B's order when they were out of step; keep the earliest.
    const changedSamples: { id: string; position: number }[] = [];

    const record = (id: string, positionB: number, vectorDiffers: boolean, metaDiffers: boolean): void => {
      if (!vectorDiffers && !metaDiffers) {
        diff.unchanged++;
        return;
      }
      diff.changed++;
      if (vectorDiffers) diff.vectorsChanged++;
      if (metaDiffers) diff.metadataChanged++;
      if (sampleSize > 0) {
        changedSamples.push({ id, position: positionB });
        if (changedSamples.length >= 4 * sampleSize) {
          changedSamples.sort((x, y) => x.position - y.position);
          changedSamples.length = sampleSize;
        }
      }
    };

    /** Takes the current entry of `side`: matched against what `other` left waiting, or left to wait. */
    const take = (side: Side, other: Side, dim: number, sideIsA: boolean): void => {
      const chunk = side.chunk!;
      const i = side.at++;
      const position = side.position++;
      const id = chunk.ids[i]!;
      const meta = metaText(chunk, i);
      const match = other.waiting.get(id);
      if (match === undefined) {
        // A view, not a copy: in-step files never get here, and out-of-step ones keep a chunk alive.
        side.waiting.set(id, { bits: side.bits.subarray(i * dim, (i + 1) * dim), meta, position });
        return;
      }
      other.waiting.delete(id);
      const vectorDiffers = !sameDim || !sameBits(side.bits, i * dim, match.bits, 0, dim);
      record(id, sideIsA ? match.position : position, vectorDiffers, meta !== match.meta);
    };

    for (;;) {
      throwIfAborted(options.signal, 'Comparing');
      const [hasA, hasB] = await Promise.all([a.ready(), b.ready()]);
      if (!hasA && !hasB) break;
      if (hasA && hasB) {
        const chunkA = a.chunk!;
        const chunkB = b.chunk!;
        // The common case: both files in step, compared without touching the maps.
        const steps = Math.min(chunkA.ids.length - a.at, chunkB.ids.length - b.at);
        for (let s = 0; s < steps; s++) {
          const i = a.at;
          const k = b.at;
          const id = chunkA.ids[i]!;
          if (id !== chunkB.ids[k]) {
            // Out of step: each entry matches what the other side left waiting, or waits itself.
            // (Ids are unique within a file, so an id both sides hold at this step waits nowhere.)
            take(a, b, dimA, true);
            take(b, a, dimB, false);
            continue;
          }
          a.at++;
          b.at++;
          a.position++;
          const positionB = b.position++;
          const vectorDiffers = !sameDim || !sameBits(a.bits, i * dimA, b.bits, k * dimB, dimA);
          record(id, positionB, vectorDiffers, metaText(chunkA, i) !== metaText(chunkB, k));
        }
      } else if (hasA) {
        take(a, b, dimA, true);
      } else {
        take(b, a, dimB, false);
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
    progress.done('Comparison finished', { current: totalBytes, total: totalBytes });
    return diff;
  } finally {
    await a?.settle();
    await b?.settle();
    await datasetA.close();
    await datasetB?.close();
  }
}
