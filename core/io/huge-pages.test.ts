import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { VectorDB } from '../vector-db.js';
import { adviseHugePages } from './huge-pages.js';
import { adviceAddon, adviceAddonFile } from './native-advice.js';

const MiB = 1024 * 1024;

/** Memory areas this process asked huge pages for (VmFlags "hg"): size and huge pages in use, in bytes. */
function advisedAreas(): { size: number; hugeInUse: number }[] {
  const areas: { size: number; hugeInUse: number }[] = [];
  let size = 0;
  let huge = 0;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const field = /^(\w+):\s+(.*)$/.exec(line);
    if (!field) continue;
    const [, key, value] = field;
    if (key === 'Size') size = parseInt(value!, 10) * 1024;
    else if (key === 'AnonHugePages') huge = parseInt(value!, 10) * 1024;
    else if (key === 'VmFlags' && value!.split(' ').includes('hg')) areas.push({ size, hugeInUse: huge });
  }
  return areas;
}

function thpMode(): string {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? 'never';
  } catch {
    return 'never';
  }
}

// CI sets VECSNAP_REQUIRE_ADDON=1 (see page-cache.test.ts); elsewhere the addon may be missing.
const required = process.env.VECSNAP_REQUIRE_ADDON === '1';
const usable = process.platform === 'linux' && (required || adviceAddonFile() !== undefined);

describe('huge pages for large buffers (huge-pages.ts)', () => {
  afterEach(() => {
    delete process.env.VECSNAP_HUGE_PAGES;
  });

  it.skipIf(!usable)('advises the 2 MiB-aligned middle of a large ArrayBuffer and nothing else', () => {
    expect(adviceAddon()).not.toBeNull();
    const big = new ArrayBuffer(40 * MiB);
    const advised = adviseHugePages(big);
    expect(advised % (2 * MiB)).toBe(0);
    expect(advised).toBeGreaterThanOrEqual(36 * MiB);
    expect(advised).toBeLessThanOrEqual(40 * MiB);
    expect(adviseHugePages(new ArrayBuffer(32 * MiB - 1))).toBe(0); // may lie in malloc's heap
    expect(adviseHugePages(new SharedArrayBuffer(40 * MiB))).toBe(0); // only a slab's own memory
    process.env.VECSNAP_HUGE_PAGES = '0';
    expect(adviseHugePages(new ArrayBuffer(40 * MiB))).toBe(0);
  });

  it.skipIf(!usable || thpMode() === 'never')('the advised memory is backed by huge pages once it is touched', () => {
    const buffer = new ArrayBuffer(48 * MiB);
    const advised = adviseHugePages(buffer);
    expect(advised).toBeGreaterThanOrEqual(44 * MiB);
    new Uint8Array(buffer).fill(1);
    const area = advisedAreas().find((a) => a.size >= advised && a.hugeInUse >= 2 * MiB);
    expect(area, JSON.stringify(advisedAreas())).toBeDefined();
  });

  it.skipIf(!usable)("asks huge pages for a VectorDB's vector storage, as it is made and as it grows", () => {
    // Bigger than anything advised before in this file (even merged), so the largest advised
    // area is the slab.
    const largest = (): number => Math.max(0, ...advisedAreas().map((a) => a.size));
    expect(largest()).toBeLessThan(90 * MiB);
    const db = new VectorDB({ dimension: 256, initialCapacity: 100_000 }); // 102 MB
    expect(largest()).toBeGreaterThanOrEqual(90 * MiB); // 97.7 MiB, less the unaligned ends
    db.insertBatch(Array.from({ length: 100_001 }, (_, i) => ({ id: `v${i}`, vector: new Float32Array(256).fill(i % 7) })));
    expect(largest()).toBeGreaterThanOrEqual(186 * MiB); // grown to 195 MiB
    expect(db.get('v100000')!.vector[0]).toBe(100_000 % 7);
  });
});
