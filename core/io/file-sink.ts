import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

type Stage = NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream;

export interface PipeIntoFileOptions {
  signal?: AbortSignal;
  highWaterMark?: number;
  /** 'wx' (the default) refuses to overwrite; temp files and uploads always want that. */
  flags?: string;
}

/**
 * Runs `stages` into `file` and settles only once the file exists and its descriptor is closed.
 *
 * A plain `createWriteStream(file)` opens the file in the background. When the pipeline failed or
 * was aborted before that open finished, the pipeline rejected first, the caller removed the
 * (not yet existing) file, and the open then created it: an aborted export left its temp file
 * behind. Opening first and waiting for the close makes "remove on failure" final.
 */
export async function pipeIntoFile(file: string, stages: Stage[], options: PipeIntoFileOptions = {}): Promise<void> {
  const handle = await fs.open(file, options.flags ?? 'wx');
  let sink: WriteStream;
  try {
    sink = createWriteStream(file, {
      fd: handle,
      ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
    });
  } catch (err) {
    await handle.close();
    throw err;
  }
  try {
    await pipeline([...stages, sink], options.signal ? { signal: options.signal } : {});
  } catch (err) {
    sink.destroy();
    throw err;
  } finally {
    if (!sink.closed) await new Promise<void>((resolve) => sink.once('close', () => resolve()));
  }
}
