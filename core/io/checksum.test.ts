import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VecSnapError } from '../errors.js';
import { sha256File } from './checksum.js';

const dir = mkdtempSync(join(tmpdir(), 'vecsnap-checksum-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sha256File', () => {
  // Sizes straddle the 8 MiB read buffer so both buffers and a short last read are exercised.
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
