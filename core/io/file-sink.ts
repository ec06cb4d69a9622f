import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import { type Duplex, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dropCachedPages } from './page-cache.js';

export type Stage = NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream;

/**
 * How many bytes a file has taken: writes that have completed. 0 until it opens. Followed on
 * pipeIntoFile's write stream until the writer says its writes are over (settled).
 */
export class FileProgress {
  private sink: WriteStream | undefined;
  private over = false;

  writtenBytes(): number {
    return this.over ? Infinity : (this.sink?.bytesWritten ?? 0);
  }

  attach(sink: WriteStream): void {
    this.sink = sink;
  }

  /**
   * The file's writes are over, done or failed: nothing reads the memory of any block any more.
   * Memory a failed write held would otherwise never count as free (VectorDB keeps a delta's).
   */
  settled(): void {
    this.over = true;
  }
}

export interface PipeIntoFileOptions {
  /** Follows the writes into the file (see FileProgress). */
  progress?: FileProgress;
  signal?: AbortSignal;
  highWaterMark?: number;
  /** 'wx' (the default) refuses to overwrite; temp files and uploads always want that. */
  flags?: string;
  /** Ask the disk to write back every this many bytes while the rest is produced (see EarlyWriteback). */
  writebackEveryBytes?: number;
  /** fsync the file on its own descriptor before closing it (saves an open, sync and close). */
  sync?: boolean;
}

/**
 * Starts the disk's write-back while the rest of a file is still being produced. Without it the
 * whole file sat dirty in the page cache until the closing fsync, which then waited for all of it
 * (0.6 s of a 1M-vector save) while the encoder had long finished. A sync in flight is not
 * repeated. A failed sync fails the write: an I/O error is reported once per open file, so
 * ignoring it here would let the closing fsync succeed on a damaged file.
 */
export class EarlyWriteback {
  private since = 0;
  private total = 0;
  /** The end of the range whose pages were last dropped (see page-cache.ts). */
  private droppedTo = 0;
  private inFlight: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly handle: fs.FileHandle,
    private readonly every: number,
    /** Drop the pages each write-back finished (page-cache.ts); off for files read back at once. */
    private readonly dropBehindPages = true,
  ) {}

  /** Counts `bytes` more produced; throws the failure of an earlier write-back. */
  add(bytes: number): void {
    if (this.failure) throw this.failure;
    this.since += bytes;
    this.total += bytes;
    if (this.since < this.every || this.inFlight) return;
    this.since = 0;
    const upTo = this.total;
    this.inFlight = this.handle.datasync().then(
      () => {
        this.inFlight = undefined;
        this.dropBehind(upTo);
      },
      (err: Error) => {
        this.failure = err;
        this.inFlight = undefined;
      },
    );
  }

  /**
   * Drops the pages the finished sync wrote back, so the rest of the file reuses them. The range
   * starts one interval early: bytes still buffered in the stream when the sync began were not
   * covered by it, and are written back by now. `upTo` counts bytes produced, which for SQLite is
   * only close to file offsets. A dirty page in the range is never lost: the kernel starts its
   * write-back first and drops it only once it is clean, and the closing fsync covers the file.
   */
  private dropBehind(upTo: number): void {
    if (!this.dropBehindPages) return;
    const from = Math.max(0, this.droppedTo - this.every);
    if (dropCachedPages(this.handle.fd, from, upTo - from)) this.droppedTo = upTo;
  }

  /** Waits for the write-back in flight; throws if any failed. */
  async finish(): Promise<void> {
    await this.inFlight;
    if (this.failure) throw this.failure;
  }
}

function writebackStage(handle: fs.FileHandle, every: number): Transform {
  const writeback = new EarlyWriteback(handle, every);
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        writeback.add(chunk.length);
      } catch (err) {
        return done(err as Error);
      }
      done(null, chunk);
    },
    flush(done) {
      writeback.finish().then(() => done(), done);
    },
  });
}

/**
 * Runs the stages `makeStages` builds into `file`, and settles only once the file exists and its
 * descriptor is closed.
 *
 * A plain `createWriteStream(file)` opens the file in the background. When the pipeline failed or
 * was aborted before that open finished, the pipeline rejected first, the caller removed the
 * (not yet existing) file, and the open then created it: an aborted export left its temp file
 * behind. Opening first and waiting for the close makes "remove on failure" final. The stages
 * are built only once the file is open, so a failed open leaves no source stream open (or
 * erroring with nobody listening).
 */
export async function pipeIntoFile(file: string, makeStages: () => Stage[], options: PipeIntoFileOptions = {}): Promise<void> {
  const handle = await fs.open(file, options.flags ?? 'wx');
  let sink: WriteStream;
  let stages: Stage[] = [];
  try {
    stages = makeStages();
    sink = createWriteStream(file, {
      fd: handle,
      ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
      ...(options.sync ? { flush: true } : {}),
    });
    options.progress?.attach(sink);
  } catch (err) {
    // Stages already made may hold a thread (a compressor's) that would keep the process alive.
    for (const stage of stages) (stage as Partial<Pick<Duplex, 'destroy'>>).destroy?.();
    await handle.close();
    throw err;
  }
  try {
    const every = options.writebackEveryBytes;
    const all = every !== undefined ? [...stages, writebackStage(handle, every), sink] : [...stages, sink];
    await pipeline(all, options.signal ? { signal: options.signal } : {});
  } catch (err) {
    sink.destroy();
    throw err;
  } finally {
    if (!sink.closed) await new Promise<void>((resolve) => sink.once('close', () => resolve()));
  }
}
