import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs, readFileSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test-helpers/fixtures.js';
import { sha256File } from './checksum.js';
import { EarlyWriteback } from './file-sink.js';
import { adviceAddonFile } from './native-advice.js';
import { dropBehindAvailable, dropCachedPages } from './page-cache.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

const MiB = 1024 * 1024;
const TMPFS_MAGIC = 0x01021994;

/** Bytes of `file` in the page cache, from util-linux's fincore (mincore(2) underneath). */
function resident(file: string): number {
  return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }).trim());
}

function hasFincore(): boolean {
  try {
    execFileSync('fincore', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// On tmpfs the page cache is the storage itself and nothing can be dropped.
const measurable = process.platform === 'linux' && hasFincore() && Number(statfsSync(process.env.TMPDIR ?? '/tmp').type) !== TMPFS_MAGIC;

describe('drop-behind (page-cache.ts)', () => {
  // CI sets VECSNAP_REQUIRE_ADDON=1: there the install must have built it. Elsewhere a failed
  // build (or `npm ci --ignore-scripts`) is allowed, and VecSnap runs without it.
  const required = process.env.VECSNAP_REQUIRE_ADDON === '1';
  const built = adviceAddonFile() !== undefined;

  it.skipIf(!required && !built)('the addon that npm install built loads on Linux', () => {
    expect(dropBehindAvailable()).toBe(process.platform === 'linux' && process.env.VECSNAP_DROP_BEHIND !== '0');
  });

  it.skipIf(!dropBehindAvailable())('is advice only: a bad descriptor or range gives false, never an exception', async () => {
    const handle = await fs.open(path.join(dir, 'f'), 'w');
    try {
      expect(dropCachedPages(handle.fd, 0, 4096)).toBe(true);
      expect(dropCachedPages(-1, 0, 4096)).toBe(false);
      expect(dropCachedPages(0x7ffffff0, 0, 4096)).toBe(false); // EBADF from the kernel
      expect(dropCachedPages(handle.fd, 0, 0)).toBe(false);
      expect(dropCachedPages(handle.fd, -1, 10)).toBe(false);
      expect(dropCachedPages(handle.fd, 0, Number.NaN)).toBe(false);
      expect(dropCachedPages(handle.fd, 0.5, 10)).toBe(false);
      expect(dropCachedPages(handle.fd, 0, Number.POSITIVE_INFINITY)).toBe(false);
    } finally {
      await handle.close();
    }
  });

  it.skipIf(!measurable || !dropBehindAvailable())('drops written-back pages; a page written after the sync is not lost', async () => {
    const file = path.join(dir, 'data');
    const bytes = randomBytes(8 * MiB);
    const handle = await fs.open(file, 'w+');
    try {
      await handle.write(bytes, 0, bytes.length, 0);
      await handle.sync();
      expect(resident(file)).toBe(8 * MiB);
      expect(dropCachedPages(handle.fd, 0, 4 * MiB)).toBe(true);
      expect(resident(file)).toBe(4 * MiB);
      // A page written after the sync is dirty: the kernel writes it back before it may drop it
      // (at most its folio, up to 2 MiB, stays cached), and the bytes read back must hold it.
      const page = randomBytes(4096);
      await handle.write(page, 0, page.length, 5 * MiB);
      page.copy(bytes, 5 * MiB);
      expect(dropCachedPages(handle.fd, 0, 8 * MiB)).toBe(true);
      expect(resident(file)).toBeLessThanOrEqual(2 * MiB);
    } finally {
      await handle.close();
    }
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it.skipIf(!measurable || !dropBehindAvailable())('EarlyWriteback drops what each write-back finished while the file is written', async () => {
    const file = path.join(dir, 'stream');
    const bytes = randomBytes(16 * MiB);
    const handle = await fs.open(file, 'wx');
    try {
      const writeback = new EarlyWriteback(handle, MiB);
      for (let off = 0; off < bytes.length; off += MiB / 4) {
        await handle.write(bytes, off, MiB / 4, off);
        writeback.add(MiB / 4);
        // Let the write-back in flight finish now and then, as a slower producer would.
        if (off % (2 * MiB) === 0) await writeback.finish();
      }
      await writeback.finish();
      await handle.sync();
    } finally {
      await handle.close();
    }
    // Without drop-behind all 16 MiB stay cached; with it, at most the last intervals do.
    expect(resident(file)).toBeLessThanOrEqual(6 * MiB);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it.skipIf(!measurable || !dropBehindAvailable())('sha256File with dropBehind hashes the same bytes and leaves at most its last steps cached', async () => {
    const file = path.join(dir, 'hashed');
    const bytes = randomBytes(48 * MiB);
    await fs.writeFile(file, bytes, { flush: true });
    const plain = await sha256File(file);
    expect(resident(file)).toBe(48 * MiB);
    const dropped = await sha256File(file, { dropBehind: true });
    expect(dropped).toEqual(plain);
    expect(dropped.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    // Dropped in steps of 16 MiB; what was read after the last step stays.
    expect(resident(file)).toBeLessThanOrEqual(17 * MiB);
  });
});
