import { promises as fs } from 'node:fs';
import { METADATA_DIFFERS, VECTOR_DIFFERS, diffEntries, sameBits, type CompareContentOptions, type ContentDiff, type EntryAccess } from './compare.js';
import { toVecSnapError } from './errors.js';
import { readStoredBytes, type StoredBytes } from './formats/dataset-io.js';
import { detectFile } from './formats/detect.js';
import { NotWriterLayout, readJsonEntryTexts, type EntryTexts, type JsonEntryTexts } from './formats/json-entry-text.js';
import { forgetParsedBuffer, parseFloat32Array } from './formats/json-scanner.js';
import { ProgressReporter } from './io/progress.js';
import type { Compression } from './types.js';
import { isPlainObject } from './validation.js';

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
  if (value === null) return undefined;
  // The ordinary reader refuses any other metadata; let it say so.
  if (!isPlainObject(value)) throw new NotWriterLayout('metadata that is not an object');
  return JSON.stringify(value);
}

/** Entries of one file, their read errors named by that file. */
async function* named(chunks: AsyncGenerator<EntryTexts>, file: string): AsyncGenerator<EntryTexts> {
  try {
    yield* chunks;
  } catch (err) {
    if (err instanceof NotWriterLayout) throw err;
    throw toVecSnapError(err, `Reading ${file}`);
  }
}

const COMMA = 0x2c;
const CLOSE = 0x5d;
const PAIR = new Float32Array(2);
const PAIR_BITS = new Uint32Array(PAIR.buffer);

/** End of the number that starts at `from`: its "," or "]", or -1. */
function numberEnd(buf: Buffer, from: number, to: number): number {
  for (let j = from; j < to; j++) if (buf[j] === COMMA || buf[j] === CLOSE) return j;
  return -1;
}

/**
 * True when the first component at which the two vector texts ("[" … "]") differ holds
 * different float32 values (bits, so -0 differs from 0). False when it holds the same value
 * written another way, or cannot be read: the caller then parses and compares every component.
 */
function firstValueDiffers(a: Buffer, aFrom: number, aTo: number, b: Buffer, bFrom: number, bTo: number): boolean {
  const n = Math.min(aTo - aFrom, bTo - bFrom);
  let p = 0;
  while (p < n && a[aFrom + p] === b[bFrom + p]) p++;
  // The component holding the first difference starts after the last separator they share.
  let start = p;
  while (start > 0 && a[aFrom + start - 1] !== COMMA && a[aFrom + start - 1] !== 0x5b) start--;
  if (start === 0) return false;
  const endA = numberEnd(a, aFrom + start, aTo);
  const endB = numberEnd(b, bFrom + start, bTo);
  if (endA <= aFrom + start || endB <= bFrom + start) return false;
  PAIR[0] = Number(a.toString('latin1', aFrom + start, endA));
  PAIR[1] = Number(b.toString('latin1', bFrom + start, endB));
  if (Number.isNaN(PAIR[0]) || Number.isNaN(PAIR[1])) return false;
  return PAIR_BITS[0] !== PAIR_BITS[1];
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
    // A changed vector usually differs in its first component already: decide on the first
    // component whose text differs and whose value differs, and parse all of them only when
    // every differing text turns out to be the same float32 written another way.
    if (firstValueDiffers(a.buf, sa[i]!, sa[i + 1]!, b.buf, sb[k]!, sb[k + 1]!)) return true;
    if (parseFloat32Array(a.buf, sa[i]!, floatsA, 0, dimA) !== sa[i + 1] || parseFloat32Array(b.buf, sb[k]!, floatsB, 0, dimB) !== sb[k + 1]) {
      throw new NotWriterLayout('a vector that is not an array of float32 numbers');
    }
    return !sameBits(bitsA, 0, bitsB, 0, dimA);
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
    // A waiting entry keeps its text (about 2.5 times its float32 bytes), not its chunk.
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
 * compareDatasetFiles without parsing every number (a quarter of the time for 100k × 384).
 * Integrity: instead of each file's content checksum, which needs every number parsed, the
 * SHA-256 of its stored bytes must equal the one recorded when it was written. Null — compare
 * the ordinary way, which checks the content checksum and reports damage precisely — when
 * either file is not VecSnap JSON in the layout VecSnap writes, has no recorded SHA-256, or
 * does not match it (damaged, or rewritten with the same content, e.g. recompressed).
 */
export async function compareJsonFileTexts(a: RecordedFile, b: RecordedFile, options: CompareContentOptions = {}): Promise<ContentDiff | null> {
  const verify = options.verifyChecksum ?? true;
  const progress = new ProgressReporter('compare', options.onProgress);
  if (verify && (a.sha256 === '' || b.sha256 === '')) return null;
  // Both files are found and sized first, so progress counts against the whole from the start.
  const found: { compression: Compression; size: number }[] = [];
  for (const side of [a, b]) {
    const { format, compression } = await detectFile(side.file);
    if (format !== 'json') return null;
    try {
      found.push({ compression, size: (await fs.stat(side.file)).size });
    } catch (err) {
      throw toVecSnapError(err, `Opening ${side.file}`);
    }
  }
  const totalBytes = found[0]!.size + found[1]!.size;
  const done = [0, 0];
  const opened: StoredBytes[] = [];
  try {
    const sides: JsonEntryTexts[] = [];
    for (const [n, side] of [a, b].entries()) {
      const bytes = readStoredBytes(side.file, found[n]!.compression, found[n]!.size, {
        hashFile: verify,
        recycle: true,
        onBytes: (count) => {
          done[n] = count;
          const sum = done[0]! + done[1]!;
          progress.update({ current: sum, total: totalBytes, bytesDone: sum, bytesTotal: totalBytes, phase: 'comparing' });
        },
      });
      opened.push(bytes);
      const texts = await readJsonEntryTexts(bytes.input, options.signal, bytes.release);
      if (texts === null) return null;
      sides.push(texts);
    }
    let diff: ContentDiff;
    try {
      diff = await diffEntries(
        named(sides[0]!.chunks, a.file),
        named(sides[1]!.chunks, b.file),
        textAccess(sides[0]!.dimension, sides[1]!.dimension),
        options,
      );
    } catch (err) {
      if (err instanceof NotWriterLayout) return null;
      throw err;
    }
    if (verify && [a, b].some((side, n) => opened[n]!.sha256() !== side.sha256)) return null;
    progress.done('Comparison finished', { current: totalBytes, total: totalBytes });
    return diff;
  } finally {
    // The float parser caches a view of the last text it read; do not keep a file's buffer alive.
    forgetParsedBuffer();
    for (const bytes of opened) await bytes.close();
  }
}
