import { randomBytes } from 'node:crypto';
import { promises as fs, type BigIntStats } from 'node:fs';
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
  try {
    const result = await produce(temp);
    if (!options.synced) await fsyncFile(temp);
    await fs.rename(temp, target);
    await options.afterRename?.();
    await fsyncDir(path.dirname(target));
    return result;
  } catch (err) {
    await removeQuietly(temp);
    throw toVecSnapError(err, `Writing ${target}`);
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
