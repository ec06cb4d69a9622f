import { promises as fs } from 'node:fs';
import { METADATA_DIFFERS, VECTOR_DIFFERS, diffEntries, type CompareContentOptions, type ContentDiff, type EntryAccess } from './compare.js';
import { VecSnapError, toVecSnapError } from './errors.js';
import { readStoredBytes, type StoredBytes } from './formats/dataset-io.js';
import { detectFile } from './formats/detect.js';
import { NotWriterLayout, readJsonEntryTexts, type EntryTexts, type JsonEntryTexts } from './formats/json-entry-text.js';
import { parseFloat32Array } from './formats/json-scanner.js';
import { ProgressReporter } from './io/progress.js';

/** A stored file and the SHA-256 of its bytes recorded when it was written. */
export interface RecordedFile {
  file: string;
  sha256: string;
}

function sameText(a: Buffer, aFrom: number, aTo: number, b: Buffer, bFrom: number, bTo: number): boolean {
  return aTo - aFrom === bTo - bFrom && a.compare(b, bFrom, bTo, aFrom, aTo) === 0;
}

/** Metadata text as the ordinary compare sees it: JSON.stringify of the parsed value, null as none. */
function canonicalMetadata(buf: Buffer, from: number, to: number): string | undefined {
  if (from < 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8', from, to));
  } catch {
    throw new NotWriterLayout('metadata that is not JSON');
  }
  return value === null ? undefined : JSON.stringify(value);
}

/**
 * Equal text is equal content. Texts that differ are decided as the ordinary compare decides:
 * vectors as float32 bits (different decimals can round to the same float), metadata as
 * JSON.stringify of the parsed value. Only changed entries get that far.
 */
function textAccess(dimA: number, dimB: number): EntryAccess<EntryTexts> {
  const sameDim = dimA === dimB;
  const floatsA = new Float32Array(dimA);
  const floatsB = new Float32Array(dimB);
  const bitsA = new Uint32Array(floatsA.buffer);
  const bitsB = new Uint32Array(floatsB.buffer);

  const vectorDiffers = (a: EntryTexts, i: number, b: EntryTexts, k: number): boolean => {
    if (!sameDim) return true;
    const sa = a.spans;
    const sb = b.spans;
    if (sameText(a.buf, sa[i]!, sa[i + 1]!, b.buf, sb[k]!, sb[k + 1]!)) return false;
    if (parseFloat32Array(a.buf, sa[i]!, floatsA, 0, dimA) !== sa[i + 1] || parseFloat32Array(b.buf, sb[k]!, floatsB, 0, dimB) !== sb[k + 1]) {
      throw new NotWriterLayout('a vector that is not an array of float32 numbers');
    }
    for (let j = 0; j < dimA; j++) if (bitsA[j] !== bitsB[j]) return true;
    return false;
  };

  const metadataDiffers = (a: EntryTexts, i: number, b: EntryTexts, k: number): boolean => {
    const from = a.spans[i + 2]!;
    const fromB = b.spans[k + 2]!;
    if (from < 0 && fromB < 0) return false;
    if (from >= 0 && fromB >= 0 && sameText(a.buf, from, a.spans[i + 3]!, b.buf, fromB, b.spans[k + 3]!)) return false;
    return canonicalMetadata(a.buf, from, a.spans[i + 3]!) !== canonicalMetadata(b.buf, fromB, b.spans[k + 3]!);
  };

  return {
    count: (c) => c.ids.length,
    id: (c, i) => c.ids[i]!,
    differ: (a, i, b, k) =>
      (vectorDiffers(a, 4 * i, b, 4 * k) ? VECTOR_DIFFERS : 0) | (metadataDiffers(a, 4 * i, b, 4 * k) ? METADATA_DIFFERS : 0),
    single: (c, i) => {
      const s = c.spans;
      const from = s[4 * i]!;
      const hasMeta = s[4 * i + 2]! >= 0;
      const to = hasMeta ? s[4 * i + 3]! : s[4 * i + 1]!;
      return {
        buf: Buffer.from(c.buf.subarray(from, to)),
        ids: [c.ids[i]!],
        spans: Int32Array.of(0, s[4 * i + 1]! - from, hasMeta ? s[4 * i + 2]! - from : -1, hasMeta ? to - from : -1),
      };
    },
  };
}

/**
 * Content diff of two VecSnap JSON files from their entries' text, the same answer as
 * compareDatasetFiles without parsing every number (a third of the time for 100k × 384).
 * Integrity: instead of each file's content checksum, which needs every number parsed, the
 * SHA-256 of its stored bytes is checked against the one recorded when it was written
 * (CHECKSUM_MISMATCH, as the ordinary compare). Null when either file is not VecSnap JSON in the
 * layout VecSnap writes: the caller then compares the ordinary way.
 */
export async function compareJsonFileTexts(a: RecordedFile, b: RecordedFile, options: CompareContentOptions = {}): Promise<ContentDiff | null> {
  const verify = options.verifyChecksum ?? true;
  const progress = new ProgressReporter('compare', options.onProgress);
  const done = [0, 0];
  let totalBytes = 0;
  const opened: StoredBytes[] = [];
  try {
    const sides: JsonEntryTexts[] = [];
    for (const [n, side] of [a, b].entries()) {
      const { format, compression } = await detectFile(side.file);
      if (format !== 'json') return null;
      let size: number;
      try {
        size = (await fs.stat(side.file)).size;
      } catch (err) {
        throw toVecSnapError(err, `Opening ${side.file}`);
      }
      totalBytes += size;
      const bytes = readStoredBytes(side.file, compression, size, {
        hashFile: verify,
        onBytes: (count) => {
          done[n] = count;
          const sum = done[0]! + done[1]!;
          progress.update({ current: sum, total: totalBytes, bytesDone: sum, bytesTotal: totalBytes, phase: 'comparing' });
        },
      });
      opened.push(bytes);
      const texts = await readJsonEntryTexts(bytes.input, options.signal);
      if (texts === null) return null;
      sides.push(texts);
    }
    let diff: ContentDiff;
    try {
      diff = await diffEntries(sides[0]!.chunks, sides[1]!.chunks, textAccess(sides[0]!.dimension, sides[1]!.dimension), options);
    } catch (err) {
      if (err instanceof NotWriterLayout) return null;
      throw toVecSnapError(err, `Comparing ${a.file} with ${b.file}`);
    }
    if (verify) {
      for (const [n, side] of [a, b].entries()) {
        if (opened[n]!.sha256() !== side.sha256) {
          throw new VecSnapError(
            'CHECKSUM_MISMATCH',
            `The checksum of ${side.file} does not match the one recorded when it was written: the file was changed or damaged.`,
          );
        }
      }
    }
    progress.done('Comparison finished', { current: totalBytes, total: totalBytes });
    return diff;
  } finally {
    for (const bytes of opened) await bytes.close();
  }
}
