import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { gzipMember, gzipPoolSize } from './gzip-workers.js';

/**
 * Input bytes per gzip member. Each member loses only the 32 KiB deflate window at its start,
 * so 4 MiB blocks cost well under 0.1% in size, and one block compresses in ≈80 ms on a
 * worker — short enough that both cores stay busy to the end of the file.
 */
export const GZIP_BLOCK_BYTES = 4 * 1024 * 1024;

export interface ParallelGzipOptions {
  level?: number;
  blockBytes?: number;
  /** Members compressed at once; one per gzip worker by default (each holds ~8 MiB, input and output). */
  concurrency?: number;
}

function newBlock(bytes: number): Buffer {
  // A whole ArrayBuffer of its own: the block is transferred to a worker and back.
  return Buffer.from(new ArrayBuffer(bytes));
}

/**
 * A gzip compressor that uses every core: the input is cut into fixed-size blocks, each block is
 * compressed as an independent gzip member on a background worker (gzip-workers.ts), and the members are written in
 * input order. RFC 1952 §2.2 defines a gzip file as a series of members, and every gunzip
 * (zlib, GNU gzip, Python, Node's own) decodes the concatenation to the concatenated input.
 * Brotli has no such framing, which is why it stays single-stream.
 */
export class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly blockBytes: number;
  private readonly concurrency: number;
  private block: Buffer;
  private filled = 0;
  /** Members being compressed, oldest first; each settles with its compressed bytes. */
  private readonly inFlight: Promise<Buffer>[] = [];
  /**
   * Input blocks whose member has finished, for the next blocks: a fresh 4 MiB buffer per block
   * is 1,024 first-touch page faults each, which on a virtual machine cost more than the copy.
   */
  private readonly spare: Buffer[] = [];
  private failed: Error | undefined;

  constructor(options: ParallelGzipOptions = {}) {
    super();
    this.level = options.level ?? zlib.constants.Z_DEFAULT_COMPRESSION;
    this.blockBytes = options.blockBytes ?? GZIP_BLOCK_BYTES;
    this.concurrency = Math.max(1, options.concurrency ?? gzipPoolSize());
    this.block = newBlock(this.blockBytes);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.consume(chunk).then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    const finish = async (): Promise<void> => {
      // An empty input still makes a valid gzip file: one empty member.
      if (this.filled > 0 || this.inFlight.length === 0) this.startBlock();
      while (this.inFlight.length > 0) await this.emitOldest();
    };
    finish().then(() => done(), done);
  }

  override _destroy(err: Error | null, done: (error: Error | null) => void): void {
    // Members still compressing finish on their threads; their results are dropped.
    this.inFlight.length = 0;
    done(err);
  }

  private async consume(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, this.blockBytes - this.filled);
      chunk.copy(this.block, this.filled, offset, offset + n);
      this.filled += n;
      offset += n;
      if (this.filled === this.blockBytes) {
        // Backpressure: never more than `concurrency` blocks held in memory or on the pool.
        while (this.inFlight.length >= this.concurrency) await this.emitOldest();
        this.startBlock();
      }
    }
  }

  private startBlock(): void {
    const member = gzipMember(this.block.buffer as ArrayBuffer, this.filled, this.level).then(({ input, member }) => {
      if (this.spare.length < this.concurrency) this.spare.push(Buffer.from(input));
      return member;
    });
    // A later member may fail while an earlier one is awaited; it is reported when its turn comes.
    member.catch(() => undefined);
    this.inFlight.push(member);
    // The block now belongs to the worker until it hands it back.
    this.block = this.spare.pop() ?? newBlock(this.blockBytes);
    this.filled = 0;
  }

  private async emitOldest(): Promise<void> {
    if (this.failed) throw this.failed;
    const member = this.inFlight[0]!;
    try {
      this.push(await member);
    } catch (err) {
      this.failed = err instanceof Error ? err : new Error(String(err));
      throw this.failed;
    } finally {
      this.inFlight.shift();
    }
  }
}
