import { adviceAddon, type AdviceAddon } from './native-advice.js';

/**
 * Drop-behind for large writes. A snapshot or export is hundreds of MB that nobody reads back
 * soon, yet the page cache keeps every written page and grows into memory the machine has not
 * used lately; on virtual machines that hand free memory back to their host each such page costs
 * a fault (a new 520 MB file: 1.4 s, against 0.5 s when written-back pages are dropped as the
 * write goes on and the rest of the file reuses them). Node has no posix_fadvise, so the advice
 * addon (native-advice.ts) provides it. Without the addon, or off Linux, nothing is dropped and
 * everything works as before. VECSNAP_DROP_BEHIND=0 turns it off (to compare).
 */
function loadAddon(): AdviceAddon | null {
  return process.env.VECSNAP_DROP_BEHIND === '0' ? null : adviceAddon();
}

/** Whether written pages can be dropped here. */
export function dropBehindAvailable(): boolean {
  return loadAddon() !== null;
}

/**
 * Asks the kernel to drop the cached pages of `fd` in [offset, offset + length). Dirty pages are
 * never lost: Linux starts their write-back first and drops only clean pages, so a later read
 * gets the same bytes from disk. Returns whether the advice was taken; never throws.
 */
export function dropCachedPages(fd: number, offset: number, length: number): boolean {
  const a = loadAddon();
  if (!a || !Number.isSafeInteger(fd) || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) return false;
  if (fd < 0 || offset < 0 || length <= 0) return false;
  try {
    return a.dropPages(fd, offset, length) === 0;
  } catch {
    return false; // advice only: it must never fail a write
  }
}
