import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { Transform } from 'node:stream';
import { throwIfAborted, toVecSnapError } from '../errors.js';

export interface FileHashResult {
  sha256: string;
  bytes: number;
}

/** SHA-256 of a file's bytes as stored, streamed in 1 MiB reads. */
export async function sha256File(
  file: string,
  options: { signal?: AbortSignal; onBytes?: (done: number, total: number) => void } = {},
): Promise<FileHashResult> {
  try {
    const { size } = await fs.stat(file);
    const hash = createHash('sha256');
    let bytes = 0;
    const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        throwIfAborted(options.signal, 'Checking the file');
        hash.update(chunk);
        bytes += chunk.length;
        options.onBytes?.(bytes, size);
      }
    } finally {
      stream.destroy();
    }
    return { sha256: hash.digest('hex'), bytes };
  } catch (err) {
    throw toVecSnapError(err, `Reading ${file}`);
  }
}

/** A pass-through stream that hashes and counts what flows to disk. */
export function hashingStage(onBytes?: (bytes: number) => void): {
  stage: Transform;
  result: () => FileHashResult;
} {
  const hash = createHash('sha256');
  let bytes = 0;
  let digest: string | undefined;
  const stage = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      onBytes?.(bytes);
      done(null, chunk);
    },
  });
  return {
    stage,
    result: () => {
      digest ??= hash.digest('hex');
      return { sha256: digest, bytes };
    },
  };
}
