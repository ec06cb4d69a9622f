import type { DatasetHeader, EntryChunk } from '../types.js';

/**
 * The shapes every format implements. Formats only serialise: they never touch the final path,
 * never compress and never compute the file's SHA-256 — the persistence pipeline does that
 * around them (temp file, compression, hashing, fsync, rename).
 */

/**
 * Chunks to encode. A source must not change a chunk's arrays after yielding it: encoders may
 * pass large vector blocks on as views (VectorDB.readChunks and every decoder yield fresh arrays).
 * The one exception is memory a consumer handed back (EntryChunk.recycle), once it is free.
 */
export type ChunkSource = Iterable<EntryChunk> | AsyncIterable<EntryChunk>;

/** Filled in by an encoder once its output has been fully drained. */
export interface EncodeSummary {
  count: number;
  contentChecksum: string;
}

export interface DecodeOptions {
  /** Recompute the content digest and compare it with the stored one (default true). */
  verifyChecksum?: boolean;
  signal?: AbortSignal;
  /**
   * The caller is done with a chunk's `vectors` once it asks for the next chunk (it copies them),
   * so a decoder may refill the same array: one block of fresh memory per read instead of one per
   * block. A load otherwise touches every vector byte in new pages twice, and first-touch page
   * faults cost as much as the read itself on some virtual machines.
   */
  reuseVectors?: boolean;
}

export interface DecodedDataset {
  header: DatasetHeader;
  /**
   * The entries in file order. Draining it to the end checks the entry count and, when
   * verifying, the content checksum: a mismatch throws CHECKSUM_MISMATCH, a file that ends
   * early throws CORRUPT_FILE — always after the last chunk, so callers must not commit
   * anything before the iteration has finished.
   */
  chunks: AsyncIterable<EntryChunk>;
  /** The stored content checksum; known once `chunks` has been drained (undefined for files that carry none). */
  storedChecksum(): string | undefined;
  /** True when the file was written by the original ruvector-extensions module. */
  legacy: boolean;
}

/** Where an encoder's bytes go, when they reach a file unchanged (no compression). */
export interface EncodeOutput {
  /** How many of the encoder's bytes the file has taken so far: their writes have completed. */
  writtenBytes(): number;
}

/** json and binary: byte streams in, byte streams out, bounded memory both ways. */
export interface StreamCodec {
  readonly format: 'json' | 'binary';
  /**
   * Yields the file's bytes in order. `header.count` is what the caller expects to write; the
   * count actually written (and stored in the trailer) is reported in `summary`.
   */
  encode(header: DatasetHeader, chunks: ChunkSource, summary: EncodeSummary, signal?: AbortSignal, output?: EncodeOutput): AsyncGenerator<Buffer>;
  decode(input: AsyncIterable<Buffer>, options?: DecodeOptions): Promise<DecodedDataset>;
}
