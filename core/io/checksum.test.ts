import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, promises as fsp, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { VecSnapError } from '../errors.js';
import { sha256File } from './checksum.js';

const dir = mkdtempSync(join(tmpdir(), 'vecsnap-checksum-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sha256File', () => {
  // Sizes straddle the 4 MiB read blocks so both blocks and a short last read are exercised.
  for (const size of [0, 1, 8 * 1024 * 1024, 8 * 1024 * 1024 + 1, 17 * 1024 * 1024 + 12345]) {
    it(`matches a one-shot SHA-256 for ${size} bytes`, async () => {
      const bytes = randomBytes(size);
      const file = join(dir, `f${size}`);
      writeFileSync(file, bytes);
      const seen: number[] = [];
      const result = await sha256File(file, { onBytes: (done) => seen.push(done) });
      expect(result.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(result.bytes).toBe(size);
      if (size > 0) expect(seen.at(-1)).toBe(size);
    });
  }

  it('keeps each hash on its own blocks: side by side, and after one that failed mid-file', async () => {
    const files = [0, 1, 2].map((i) => {
      const bytes = randomBytes(9 * 1024 * 1024 + i * 4099);
      const file = join(dir, `side${i}`);
      writeFileSync(file, bytes);
      return { file, sha256: createHash('sha256').update(bytes).digest('hex') };
    });
    // onBytes runs while the next block's read is on its way (the test below checks that read).
    const failed = sha256File(files[0]!.file, {
      onBytes: () => {
        throw new Error('progress listener failed');
      },
    }).catch((e: unknown) => e);
    const side = await Promise.all(files.map((f) => sha256File(f.file)));
    expect(side.map((r) => r.sha256)).toEqual(files.map((f) => f.sha256));
    expect(await failed).toMatchObject({ message: expect.stringContaining('progress listener failed') });
    for (const f of files) expect((await sha256File(f.file)).sha256).toBe(f.sha256);
  });

  it('hands its blocks to the next hash only once a read still running into them has ended', async () => {
    const bytes = randomBytes(9 * 1024 * 1024);
    const file = join(dir, 'in-flight');
    writeFileSync(file, bytes);
    const reading = new Set<ArrayBufferLike>();
    const overlaps: number[] = [];
    const realOpen = fsp.open.bind(fsp);
    let slow = true; // the first hash's reads take 100 ms, so its last one outlives its failure
    const spy = vi.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const handle = await realOpen(...args);
      const delay = slow;
      slow = false;
      const read = handle.read.bind(handle) as (...a: unknown[]) => Promise<{ bytesRead: number }>;
      (handle as unknown as { read: unknown }).read = async (buf: Buffer, ...rest: unknown[]) => {
        if (reading.has(buf.buffer)) overlaps.push(buf.length);
        reading.add(buf.buffer);
        try {
          if (delay) await new Promise((resolve) => setTimeout(resolve, 100));
          return await read(buf, ...rest);
        } finally {
          reading.delete(buf.buffer);
        }
      };
      return handle;
    });
    try {
      const failed = await sha256File(file, {
        onBytes: () => {
          throw new Error('progress listener failed');
        },
      }).catch((e: unknown) => e);
      expect(failed).toMatchObject({ message: expect.stringContaining('progress listener failed') });
      expect((await sha256File(file)).sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(overlaps).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });

  it('reports a missing file as a VecSnapError and an abort as ABORTED', async () => {
    await expect(sha256File(join(dir, 'absent'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const file = join(dir, 'abort');
    writeFileSync(file, randomBytes(1024));
    const controller = new AbortController();
    controller.abort();
    const err = await sha256File(file, { signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VecSnapError);
    expect((err as VecSnapError).code).toBe('ABORTED');
  });
});
