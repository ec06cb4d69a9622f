import { adviceAddon } from './native-advice.js';

/**
 * Buffers this big or more get the advice: a vector slab is 150-512 MB in the benchmark's
 * workloads. glibc maps allocations of 32 MiB and more on their own; a smaller one may lie in its
 * heap, where the advice would outlive the buffer and apply to whatever reuses that memory.
 */
const MIN_BYTES = 32 * 1024 * 1024;

/**
 * Asks for huge pages under a new, still untouched buffer (madvise MADV_HUGEPAGE, through the
 * advice addon): its first touch then faults once per 2 MiB instead of once per 4 KiB page.
 * Filling a new 512 MB slab took 1.6-1.7 s on this project's VM with small pages and 0.5-1.1 s
 * with huge ones; a 1M × 128 load went from 4.9 to 4.1 s. Linux only, advice only: without the
 * addon, or where the kernel has no huge page free, small pages are used as before.
 * VECSNAP_HUGE_PAGES=0 turns it off (to compare). Returns the bytes advised; never throws.
 */
export function adviseHugePages(buffer: ArrayBufferLike): number {
  if (buffer.byteLength < MIN_BYTES || !(buffer instanceof ArrayBuffer) || !hugePagesAvailable()) return 0;
  const addon = adviceAddon()!;
  try {
    return addon.hugePages(buffer);
  } catch {
    return 0;
  }
}

/** Whether large buffers ask for huge pages here. */
export function hugePagesAvailable(): boolean {
  return process.env.VECSNAP_HUGE_PAGES !== '0' && adviceAddon() !== null;
}
