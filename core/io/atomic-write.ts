import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fs, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { toVecSnapError } from '../errors.js';

/** Temp files carry the writer's pid so a later run can tell abandoned ones from live ones. */
const TEMP_SUFFIX = '.vecsnap-tmp';
const TEMP_PATTERN = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.vecsnap-tmp$/;

export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  return path.join(dir, `.${base}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
}

export async function fsyncFile(file: string): Promise<void> {
  const handle = await fs.open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a rename durable. Some file systems refuse to fsync a directory; that is not an error. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EINVAL/EPERM on some platforms (Windows): nothing more can be done.
  } finally {
    await handle?.close();
  }
}

export async function removeQuietly(file: string): Promise<void> {
  await fs.rm(file, { force: true }).catch(() => undefined);
}

/**
 * Writes `target` atomically: `produce` fills a temp file beside it; then the temp file is
 * fsynced, renamed over the target and the folder fsynced. If anything fails or is aborted the
 * temp file is removed and the target is untouched. `synced`: `produce` fsyncs the file itself
 * before it resolves (on the descriptor it wrote through), so it is not opened again for that.
 */
export async function writeAtomic<T>(
  target: string,
  produce: (tempPath: string) => Promise<T>,
  options: { synced?: boolean; afterRename?: () => Promise<void> } = {},
): Promise<T> {
  const temp = tempPathFor(target);
  let replaced: fs.FileHandle | undefined;
  try {
    const result = await produce(temp);
    if (!options.synced) await fsyncFile(temp);
    replaced = await holdReplaced(target);
    await fs.rename(temp, target);
    await options.afterRename?.();
    await fsyncDir(path.dirname(target));
    return result;
  } catch (err) {
    await removeQuietly(temp);
    throw toVecSnapError(err, `Writing ${target}`);
  } finally {
    if (replaced) {
      const later = heldFiles.getStore();
      if (later?.open) later.handles.push(replaced);
      else release(replaced);
    }
  }
}

/** Replaced files at least this big are freed after the work that replaced them (holdReplaced). */
export const FREE_LATER_MIN_BYTES = 16 * 1024 * 1024;

/** The files held for a running freeReplacedFilesAfter task; `open` until it settles. */
const heldFiles = new AsyncLocalStorage<{ handles: fs.FileHandle[]; open: boolean }>();
const freeing = new Set<Promise<void>>();

/** Closes a held file, which frees it; never throws. */
function release(handle: fs.FileHandle): void {
  const closing = closeQuietly(handle);
  freeing.add(closing);
  void closing.then(() => freeing.delete(closing));
}

async function closeQuietly(handle: fs.FileHandle): Promise<void> {
  await handle.close().catch(() => undefined);
}

/**
 * Resolves once every replaced file released so far has been freed. For measurements that must
 * not overlap that work (the bench waits for it before each timed pass).
 */
export async function replacedFilesFreed(): Promise<void> {
  while (freeing.size > 0) await Promise.all([...freeing]);
}

/**
 * The file a rename is about to replace, held open so that the rename only drops its name. On
 * Linux the call that drops a file's last link also frees its blocks, and on this machine's ext4
 * (mounted with discard) that took 35-45 ms for a 160 MB file: a tenth of a 100k x 384 binary
 * save, spent after its data was already safe. Closing the handle frees the file instead; inside
 * `freeReplacedFilesAfter` that happens once the whole task has settled (a close right away only
 * moved the wait into the task's next fsync, which commits the same journal transaction).
 * Elsewhere, and for small files or none, nothing is held.
 */
async function holdReplaced(target: string): Promise<fs.FileHandle | undefined> {
  if (process.platform !== 'linux') return undefined;
  try {
    // A rename replaces a symbolic link itself, not its target; and opening a FIFO could block.
    const before = await fs.lstat(target);
    if (!before.isFile() || before.size < FREE_LATER_MIN_BYTES) return undefined;
    const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fsConstants;
    // Whatever this opens (even a file swapped in since the lstat) is only held, then closed.
    return await fs.open(target, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch {
    // No file there yet (or one that cannot be opened): the rename decides what happens to it.
    return undefined;
  }
}

/**
 * Runs `task`; the big files its atomic writes replaced are freed after it settles, without
 * anyone waiting for that (see holdReplaced).
 */
export async function freeReplacedFilesAfter<T>(task: () => Promise<T>): Promise<T> {
  const held = { handles: [] as fs.FileHandle[], open: true };
  try {
    return await heldFiles.run(held, task);
  } finally {
    // Work the task started but did not wait for releases its own files (held.open is false).
    held.open = false;
    for (const handle of held.handles) release(handle);
  }
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await writeAtomic(target, (temp) => fs.writeFile(temp, data, { flag: 'wx', flush: true }), { synced: true });
}

/**
 * writeFileAtomic that also returns the file's stat, read on the writer's own descriptor after the
 * rename: its ctime is the rename's, and another writer's later file can never be mistaken for it.
 */
export async function writeFileAtomicWithStat(target: string, data: string | Uint8Array): Promise<BigIntStats> {
  let handle: fs.FileHandle | undefined;
  let stat: BigIntStats | undefined;
  try {
    await writeAtomic(
      target,
      async (temp) => {
        handle = await fs.open(temp, 'wx');
        await handle.writeFile(data);
        await handle.sync();
      },
      { synced: true, afterRename: async () => void (stat = await handle!.stat({ bigint: true })) },
    );
  } finally {
    await handle?.close();
  }
  return stat!;
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/** Renames into place durably (for files already fsynced elsewhere in the same folder). */
export async function commitRename(temp: string, target: string): Promise<void> {
  await fs.rename(temp, target);
  await fsyncDir(path.dirname(target));
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp files left by writers that no longer run (a crash or kill mid-write). Temp files
 * of live processes are left alone. Returns the names removed so the caller can report them.
 */
export async function cleanupStaleTemps(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMP_PATTERN.exec(name);
    if (!match) continue;
    if (processAlive(Number(match[2]))) continue;
    await removeQuietly(path.join(dir, name));
    removed.push(name);
  }
  return removed;
}

export function isTempName(name: string): boolean {
  return name.endsWith(TEMP_SUFFIX);
}
