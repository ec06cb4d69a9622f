import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Drop-behind for large writes. A snapshot or export is hundreds of MB that nobody reads back
 * soon, yet the page cache keeps every written page and grows into memory the machine has not
 * used lately; on virtual machines that hand free memory back to their host each such page costs
 * a fault (a new 520 MB file: 1.4 s, against 0.5 s when written-back pages are dropped as the
 * write goes on and the rest of the file reuses them). Node has no posix_fadvise, so a tiny addon
 * (native/fadvise, built at install) provides it. Without the addon, or off Linux, nothing is
 * dropped and everything works as before. VECSNAP_DROP_BEHIND=0 turns it off (to compare).
 * Only Linux builds it; elsewhere the page cache is left to the system.
 */
interface FadviseAddon {
  /** posix_fadvise(fd, offset, length, POSIX_FADV_DONTNEED): 0 or the error number. */
  dropPages(fd: number, offset: number, length: number): number;
}

const ADDON = path.join('native', 'fadvise', 'build', 'Release', 'vecsnap_fadvise.node');
let addon: FadviseAddon | null | undefined;

/** The built addon, looked for from core/io (sources), dist/core/io or dist/app/core/io up to the package root. */
export function dropBehindAddonFile(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++, dir = path.dirname(dir)) {
    const file = path.join(dir, ADDON);
    if (existsSync(file)) return file;
  }
  return undefined;
}

function loadAddon(): FadviseAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.platform !== 'linux' || process.env.VECSNAP_DROP_BEHIND === '0') return addon;
  const file = dropBehindAddonFile();
  if (file === undefined) return addon;
  try {
    addon = createRequire(import.meta.url)(file) as FadviseAddon;
  } catch {
    addon = null; // built for another Node ABI or machine: run without it
  }
  return addon;
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
export function dropWrittenPages(fd: number, offset: number, length: number): boolean {
  const a = loadAddon();
  if (!a || !Number.isSafeInteger(fd) || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) return false;
  if (fd < 0 || offset < 0 || length <= 0) return false;
  try {
    return a.dropPages(fd, offset, length) === 0;
  } catch {
    return false; // advice only: it must never fail a write
  }
}
