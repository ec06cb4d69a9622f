import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { VecSnapError, throwIfAborted } from '../errors.js';

/**
 * Uncompressed files up to this size are encoded whole, then written with one writev and fsynced
 * (writeGathered). A 1% delta of 100k × 384 (1.5 MB) spent 3-6 ms of its ~12 in the stream
 * pipeline's hand-offs between encoder, counting stage and write stream, over the 2 ms its write
 * and fsync take; a 1% delta of 1M × 128 is about 5.5 MB. The gathered bytes are mostly views
 * of the chunks' vectors, so this holds little memory of its own.
 */
export const GATHER_MAX_BYTES = 8 * 1024 * 1024;

/**
 * The encoder's output while it stays under `maxBytes`. `rest` is undefined when that was all of
 * it; otherwise it yields the gathered buffers and then the remainder, for the stream pipeline,
 * and `end` ends the encoder (for when `rest` is never read).
 */
export async function gather(
  encoder: AsyncIterable<Uint8Array>,
  maxBytes: number,
): Promise<{ buffers: Uint8Array[]; bytes: number; rest: AsyncIterable<Uint8Array> | undefined; end: () => Promise<unknown> }> {
  const iterator = encoder[Symbol.asyncIterator]();
  const buffers: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { buffers, bytes, rest: undefined, end: async () => undefined };
    buffers.push(next.value);
    bytes += next.value.length;
    if (bytes >= maxBytes) break;
  }
  const end = async (): Promise<unknown> => iterator.return?.();
  async function* rest(): AsyncGenerator<Uint8Array> {
    try {
      yield* buffers.splice(0);
      yield* { [Symbol.asyncIterator]: () => iterator };
    } finally {
      // A pipeline that ends early, even while the gathered buffers are replayed, ends the
      // encoder (a finished one ignores this).
      await end();
    }
  }
  return { buffers, bytes, rest: rest(), end };
}

/** Writes `buffers` into the new file `temp` with one writev, and fsyncs it. */
export async function writeGathered(
  temp: string,
  buffers: Uint8Array[],
  bytes: number,
  fileChecksum: boolean,
  onBytes: ((bytes: number) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<{ sha256: string | undefined; bytes: number }> {
  throwIfAborted(signal, 'Writing');
  let sha256: string | undefined;
  if (fileChecksum) {
    const hash = createHash('sha256');
    for (const buffer of buffers) hash.update(buffer);
    sha256 = hash.digest('hex');
  }
  const handle = await fs.open(temp, 'wx');
  try {
    const { bytesWritten } = await handle.writev(buffers);
    // libuv writes every buffer unless the write fails; a short count is an error all the same.
    if (bytesWritten !== bytes) throw new VecSnapError('IO_ERROR', `Only ${bytesWritten} of ${bytes} bytes reached ${temp}.`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  onBytes?.(bytes);
  return { sha256, bytes };
}
