import type { Duplex, Transform, TransformOptions } from 'node:stream';
import zlib from 'node:zlib';
import type { Compression } from '../types.js';
import { BrotliThreadCompress, brotliThreadAvailable } from './brotli-thread.js';
import { ParallelGzip } from './parallel-gzip.js';

export const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** Brotli quality 4 is the knee of its speed/size curve for float data (11 is ~50× slower). */
const BROTLI_QUALITY = 4;

export function createCompressor(compression: Compression, sizeHint?: number): Duplex | null {
  switch (compression) {
    case 'none':
      return null;
    case 'gzip':
      return new ParallelGzip();
    case 'brotli': {
      const params = {
        [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        ...(sizeHint ? { [zlib.constants.BROTLI_PARAM_SIZE_HINT]: Math.min(sizeHint, 2 ** 30) } : {}),
      };
      if (brotliThreadAvailable()) {
        try {
          return new BrotliThreadCompress(params);
        } catch {
          // No worker could start: zlib's stream on this thread, as below.
        }
      }
      const options: zlib.BrotliOptions & TransformOptions = {
        chunkSize: 256 * 1024,
        // Room for the encoder's next piece while brotli works on this one: with the default
        // 16 KiB, the pipeline stops pulling from the encoder until brotli drains, so the two
        // took turns instead of running side by side.
        writableHighWaterMark: 4 * 1024 * 1024,
        params,
      };
      return zlib.createBrotliCompress(options);
    }
  }
}

export function createDecompressor(compression: Compression): Transform | null {
  switch (compression) {
    case 'none':
      return null;
    case 'gzip':
      // Concatenated gzip members (parallel compression writes them) decode as one stream.
      return zlib.createGunzip({ chunkSize: 256 * 1024 });
    case 'brotli':
      return zlib.createBrotliDecompress({ chunkSize: 256 * 1024 });
  }
}

/**
 * Decompresses just the beginning of a file to sniff what it holds: feeds `head` to a streaming
 * decompressor and stops after `want` bytes of output — a highly compressible start (a SQLite
 * page of zeros) may expand a thousandfold, so the output is never decoded in full. Resolves
 * null when the bytes do not decode as `compression`.
 */
export function decompressHead(head: Buffer, compression: 'gzip' | 'brotli', want = 4096): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const stream = compression === 'gzip' ? zlib.createGunzip() : zlib.createBrotliDecompress();
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (value: Buffer | null): void => {
      if (settled) return;
      settled = true;
      stream.removeAllListeners('data');
      stream.destroy();
      resolve(value);
    };
    stream.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      size += chunk.length;
      if (size >= want) finish(Buffer.concat(parts));
    });
    // A head cut mid-stream ends with "unexpected end of file": what came out before still counts.
    stream.on('error', () => finish(size > 0 ? Buffer.concat(parts) : null));
    stream.on('end', () => finish(Buffer.concat(parts)));
    stream.end(head);
  });
}

export function compressionSuffix(compression: Compression): string {
  return compression === 'gzip' ? '.gz' : compression === 'brotli' ? '.br' : '';
}
