import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { Compression } from '../types.js';

export const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** Brotli quality 4 is the knee of its speed/size curve for float data (11 is ~50× slower). */
const BROTLI_QUALITY = 4;

export function createCompressor(compression: Compression, sizeHint?: number): Transform | null {
  switch (compression) {
    case 'none':
      return null;
    case 'gzip':
      return zlib.createGzip({ level: zlib.constants.Z_DEFAULT_COMPRESSION, chunkSize: 256 * 1024 });
    case 'brotli':
      return zlib.createBrotliCompress({
        chunkSize: 256 * 1024,
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
          ...(sizeHint ? { [zlib.constants.BROTLI_PARAM_SIZE_HINT]: Math.min(sizeHint, 2 ** 30) } : {}),
        },
      });
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
 * Decompresses the beginning of a file without needing the rest: used to sniff what a
 * compressed file holds. Returns null when the bytes do not decode as `compression`.
 */
export function decompressHead(head: Buffer, compression: 'gzip' | 'brotli', maxOutput = 64 * 1024): Buffer | null {
  try {
    if (compression === 'gzip') {
      return zlib.gunzipSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: maxOutput });
    }
    return zlib.brotliDecompressSync(head, {
      finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
      maxOutputLength: maxOutput,
    });
  } catch (err) {
    // Output beyond maxOutput means it decoded fine; only the cap was hit.
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      return decompressHead(head.subarray(0, Math.floor(head.length / 2)), compression, maxOutput);
    }
    return null;
  }
}

export function compressionSuffix(compression: Compression): string {
  return compression === 'gzip' ? '.gz' : compression === 'brotli' ? '.br' : '';
}
