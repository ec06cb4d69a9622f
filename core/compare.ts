import { throwIfAborted } from './errors.js';
import { openDatasetFile, type OpenedDataset } from './formats/dataset-io.js';
import { ProgressReporter } from './io/progress.js';
import type { LongOperationOptions } from './types.js';

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
  /** Up to `sampleSize` ids of each kind, in file order. */
  samples: { added: string[]; removed: string[]; changed: string[] };
}

export interface CompareContentOptions extends LongOperationOptions {
  sampleSize?: number;
  verifyChecksum?: boolean;
}

/**
 * Exact content diff of two dataset files: A is held in memory (ids → position, one float32 slab,
 * metadata as JSON text), B is streamed against it. Vectors compare bit for bit.
 */
export async function compareDatasetFiles(fileA: string, fileB: string, options: CompareContentOptions = {}): Promise<ContentDiff> {
  const sampleSize = options.sampleSize ?? 20;
  const progress = new ProgressReporter('compare', options.onProgress);
  const verify = options.verifyChecksum ?? true;
  let bytesA = 0;
  let bytesB = 0;
  let totalBytes = 0;
  const report = (phase: string): void =>
    progress.update({ current: bytesA + bytesB, total: totalBytes, bytesDone: bytesA + bytesB, bytesTotal: totalBytes, phase });

  const a = await openDatasetFile(fileA, {
    verifyChecksum: verify,
    ...(options.signal ? { signal: options.signal } : {}),
    onBytes: (n, size) => {
      bytesA = n;
      totalBytes = Math.max(totalBytes, size);
      report('reading first');
    },
  });
  let b: OpenedDataset | undefined;
  try {
    b = await openDatasetFile(fileB, {
      verifyChecksum: verify,
      ...(options.signal ? { signal: options.signal } : {}),
      onBytes: (n) => {
        bytesB = n;
        report('comparing');
      },
    });
    totalBytes = a.fileSize + b.fileSize;
    const dimA = a.header.dimension;
    const index = new Map<string, number>();
    let vectors = new Float32Array(Math.max(1, a.header.count) * dimA);
    const metaA: (string | undefined)[] = [];
    const idsA: string[] = [];
    for await (const chunk of a.chunks) {
      throwIfAborted(options.signal, 'Comparing');
      const needed = (idsA.length + chunk.ids.length) * dimA;
      if (needed > vectors.length) {
        const grown = new Float32Array(Math.max(needed, vectors.length * 2));
        grown.set(vectors);
        vectors = grown;
      }
      vectors.set(chunk.vectors, idsA.length * dimA);
      for (let i = 0; i < chunk.ids.length; i++) {
        index.set(chunk.ids[i]!, idsA.length);
        idsA.push(chunk.ids[i]!);
        const m = chunk.metadata[i];
        metaA.push(m === undefined ? undefined : JSON.stringify(m));
      }
    }
    const bitsA = new Uint32Array(vectors.buffer, 0, idsA.length * dimA);
    const seen = new Uint8Array(idsA.length);
    const diff: ContentDiff = {
      added: 0,
      removed: 0,
      changed: 0,
      unchanged: 0,
      vectorsChanged: 0,
      metadataChanged: 0,
      samples: { added: [], removed: [], changed: [] },
    };
    const sameDim = b.header.dimension === dimA;
    for await (const chunk of b.chunks) {
      throwIfAborted(options.signal, 'Comparing');
      const bitsB = new Uint32Array(chunk.vectors.buffer, chunk.vectors.byteOffset, chunk.vectors.length);
      const dimB = b.header.dimension;
      for (let i = 0; i < chunk.ids.length; i++) {
        const id = chunk.ids[i]!;
        const at = index.get(id);
        if (at === undefined) {
          diff.added++;
          if (diff.samples.added.length < sampleSize) diff.samples.added.push(id);
          continue;
        }
        seen[at] = 1;
        let vectorDiffers = !sameDim;
        if (sameDim) {
          const offA = at * dimA;
          const offB = i * dimB;
          for (let j = 0; j < dimA; j++) {
            if (bitsA[offA + j] !== bitsB[offB + j]) {
              vectorDiffers = true;
              break;
            }
          }
        }
        const m = chunk.metadata[i];
        const metaDiffers = (m === undefined ? undefined : JSON.stringify(m)) !== metaA[at];
        if (vectorDiffers || metaDiffers) {
          diff.changed++;
          if (vectorDiffers) diff.vectorsChanged++;
          if (metaDiffers) diff.metadataChanged++;
          if (diff.samples.changed.length < sampleSize) diff.samples.changed.push(id);
        } else {
          diff.unchanged++;
        }
      }
    }
    for (let i = 0; i < idsA.length; i++) {
      if (seen[i]) continue;
      diff.removed++;
      if (diff.samples.removed.length < sampleSize) diff.samples.removed.push(idsA[i]!);
    }
    progress.done('Comparison finished', { current: totalBytes, total: totalBytes });
    return diff;
  } finally {
    await a.close();
    await b?.close();
  }
}
