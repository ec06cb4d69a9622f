import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The advice addon (native/advice, built at install on Linux): posix_fadvise and madvise, which
 * Node has no binding for. page-cache.ts and huge-pages.ts say what each is for. Without the
 * addon, or off Linux, neither advice is given and everything works as before.
 */
export interface AdviceAddon {
  /** posix_fadvise(fd, offset, length, POSIX_FADV_DONTNEED): 0 or the error number. */
  dropPages(fd: number, offset: number, length: number): number;
  /** madvise(MADV_HUGEPAGE) on the buffer's 2 MiB-aligned middle: the bytes advised, or 0. */
  hugePages(buffer: ArrayBuffer): number;
}

const ADDON = path.join('native', 'advice', 'build', 'Release', 'vecsnap_advice.node');
let addon: AdviceAddon | null | undefined;

/** The built addon, looked for from core/io (sources), dist/core/io or dist/app/core/io up to the package root. */
export function adviceAddonFile(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++, dir = path.dirname(dir)) {
    const file = path.join(dir, ADDON);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** The loaded addon, or null where it is not built or cannot load. */
export function adviceAddon(): AdviceAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.platform !== 'linux') return addon;
  const file = adviceAddonFile();
  if (file === undefined) return addon;
  try {
    addon = createRequire(import.meta.url)(file) as AdviceAddon;
  } catch {
    addon = null; // built for another Node ABI or machine: run without it
  }
  return addon;
}
