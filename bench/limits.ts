import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { medianOf } from './measure.js';

export interface MachineLimits {
  /** Bytes per second. */
  writeFsync: number;
  read: number;
  sha256: number;
  gzip: number;
  brotli: number;
  /** Seconds for JSON.stringify of all vectors + fs.writeFile (what a user would do by hand). */
  naiveJsonSave: number;
}

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

/** What this machine can physically do with the same bytes, measured in the same run. */
export async function measureLimits(dir: string, vectors: Float32Array, runs: number): Promise<MachineLimits> {
  const bytes = Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength);
  const file = path.join(dir, 'raw.f32');
  const write = await medianOf(runs, async () => {
    const handle = await fs.open(file, 'w');
    for (let off = 0; off < bytes.length; off += 1 << 22) await handle.write(bytes, off, Math.min(1 << 22, bytes.length - off));
    await handle.sync();
    await handle.close();
  });
  const read = await medianOf(runs, async () => {
    const handle = await fs.open(file, 'r');
    const buf = Buffer.allocUnsafe(1 << 22);
    while ((await handle.read(buf, 0, buf.length)).bytesRead > 0);
    await handle.close();
  });
  const sha = await medianOf(runs, async () => createHash('sha256').update(bytes).digest('hex'));
  // Compression speed on a 32 MiB sample (zlib's own rate, single stream).
  const sample = bytes.subarray(0, Math.min(bytes.length, 32 << 20));
  const gz = await medianOf(1, () => gzip(sample));
  const br = await medianOf(1, () => brotli(sample, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } }));
  await fs.rm(file, { force: true });
  return {
    writeFsync: bytes.length / write.seconds,
    read: bytes.length / read.seconds,
    sha256: bytes.length / sha.seconds,
    gzip: sample.length / gz.seconds,
    brotli: sample.length / br.seconds,
    naiveJsonSave: 0,
  };
}
