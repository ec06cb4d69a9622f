import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { Transform } from 'node:stream';
import { throwIfAborted, toVecSnapError } from '../errors.js';
import { dropCachedPages } from './page-cache.js';
import { createStreamSha256 } from './sha256-thread.js';

export interface FileHashResult {
  sha256: string;
  bytes: number;
}

/**
 * Read size of sha256File. What a block costs on this machine's VM is its memory's first touch:
 * two new 8 MiB blocks made a 143 MB verify 1.8x the time of SHA-256 alone, two new 1 MiB ones
 * 1.05-1.3x. With the blocks kept between hashes (keptBlocks) the size only sets how often this
 * thread goes back to the event loop for the next read: medians over 12 verifies of that file were
 * 1.075x (1 MiB), 1.06x (2 MiB), 1.03x (4 MiB) and about 1.06x (8 MiB, the hash re-reads it from
 * RAM, not cache).
 */
const HASH_READ_BYTES = 4 * 1024 * 1024;

/**
 * The read blocks of the last finished hash, for the next one (8 MiB; hashes at the same time
 * take new ones). New memory is slow here; a verify, and the check of every file written, would
 * otherwise fault in 8 MiB each time.
 */
const keptBlocks: [Buffer, Buffer][] = [];
const KEPT_BLOCK_PAIRS = 1;

function takeBlocks(): [Buffer, Buffer] {
  return keptBlocks.pop() ?? [Buffer.allocUnsafeSlow(HASH_READ_BYTES), Buffer.allocUnsafeSlow(HASH_READ_BYTES)];
}

const DROP_EVERY = 16 * 1024 * 1024;

/**
 * SHA-256 of a file's bytes as stored. Double-buffered: the next read runs on libuv's pool while
 * this thread hashes the previous block, so the rate approaches SHA-256's own.
 */
export async function sha256File(
  file: string,
  options: {
    signal?: AbortSignal;
    onBytes?: (done: number, total: number) => void;
    /**
     * Drop the pages already hashed from the page cache (page-cache.ts), for a file just written
     * with drop-behind: reading it back whole would otherwise grow the cache into fresh memory.
     */
    dropBehind?: boolean;
  } = {},
): Promise<FileHashResult> {
  let handle: fs.FileHandle | undefined;
  let buffers: [Buffer, Buffer] | undefined;
  let pending: Promise<{ bytesRead: number }> | undefined;
  try {
    handle = await fs.open(file, 'r');
    const { size } = await handle.stat();
    const hash = createHash('sha256');
    buffers = takeBlocks();
    let bytes = 0;
    let dropped = 0;
    let which = 0;
    pending = handle.read(buffers[0], 0, HASH_READ_BYTES, null);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      throwIfAborted(options.signal, 'Checking the file');
      const current = buffers[which]!;
      which ^= 1;
      // Sequential reads (position null): the next one starts where this one ended.
      pending = handle.read(buffers[which]!, 0, HASH_READ_BYTES, null);
      hash.update(current.subarray(0, bytesRead));
      bytes += bytesRead;
      // In steps of DROP_EVERY: one call per block would cost more than the pages it frees.
      if (options.dropBehind && bytes - dropped >= DROP_EVERY) {
        dropCachedPages(handle.fd, dropped, bytes - dropped);
        dropped = bytes;
      }
      options.onBytes?.(bytes, size);
    }
    return { sha256: hash.digest('hex'), bytes };
  } catch (err) {
    throw toVecSnapError(err, `Reading ${file}`);
  } finally {
    // A read still running (a throw between issuing it and awaiting it) writes into its block.
    await pending?.catch(() => undefined);
    if (buffers && keptBlocks.length < KEPT_BLOCK_PAIRS) keptBlocks.push(buffers);
    await handle?.close().catch(() => undefined);
  }
}

/**
 * A pass-through stream that counts what flows to disk and, unless `sha256` is false, hashes it
 * (the result's sha256 is then undefined).
 */
export function hashingStage(
  onBytes?: (bytes: number) => void,
  sha256 = true,
): {
  stage: Transform;
  result: () => { sha256: string | undefined; bytes: number };
} {
  const hash = sha256 ? createStreamSha256() : undefined;
  let bytes = 0;
  let digest: string | undefined;
  const stage = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        hash?.update(chunk);
      } catch (err) {
        // A throw out of transform() would escape the pipeline as an uncaught exception.
        done(err as Error);
        return;
      }
      bytes += chunk.length;
      onBytes?.(bytes);
      done(null, chunk);
    },
  });
  return {
    stage,
    result: () => {
      digest ??= hash?.digest();
      return { sha256: digest, bytes };
    },
  };
}
