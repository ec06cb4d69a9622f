import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VecSnapError } from '../errors.js';
import { heldDeletedFiles, tempDir } from '../test-helpers/fixtures.js';
import { FREE_LATER_MIN_BYTES, cleanupStaleTemps, freeReplacedFilesAfter, replacedFilesFreed, tempPathFor, writeAtomic } from './atomic-write.js';

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = tempDir('vecsnap-atomic-'));
});

afterEach(() => cleanup());

const write = (target: string, bytes: Buffer) => writeAtomic(target, async (temp) => writeFileSync(temp, bytes, { flag: 'wx' }));

describe('writeAtomic', () => {
  it('replaces the target with the new bytes and leaves no temp file', async () => {
    const target = path.join(dir, 'database.bin');
    writeFileSync(target, Buffer.alloc(3 << 20, 1));
    const fresh = Buffer.alloc(2 << 20, 2);
    await write(target, fresh);
    expect(readFileSync(target).equals(fresh)).toBe(true);
    expect(readdirSync(dir)).toEqual(['database.bin']);
  });

  it('never writes into the replaced file: a reader that had it open still reads all of it', async () => {
    const target = path.join(dir, 'database.bin');
    const old = Buffer.alloc(1 << 20, 7);
    writeFileSync(target, old);
    const fd = openSync(target, 'r');
    try {
      await write(target, Buffer.from('new'));
      expect(fstatSync(fd).nlink).toBe(0);
      const back = Buffer.alloc(old.length);
      expect(readSync(fd, back, 0, back.length, 0)).toBe(old.length);
      expect(back.equals(old)).toBe(true);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(target, 'utf8')).toBe('new');
  });

  it('creates a target that did not exist', async () => {
    const target = path.join(dir, 'new.bin');
    await write(target, Buffer.from('first'));
    expect(readFileSync(target, 'utf8')).toBe('first');
    expect(readdirSync(dir)).toEqual(['new.bin']);
  });

  it('keeps the target and removes the temp file when producing fails', async () => {
    const target = path.join(dir, 'database.bin');
    writeFileSync(target, 'old');
    const failed = writeAtomic(target, async (temp) => {
      writeFileSync(temp, 'half');
      throw new VecSnapError('ABORTED', 'stopped');
    });
    await expect(failed).rejects.toMatchObject({ code: 'ABORTED' });
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['database.bin']);
  });

  it('installs the bytes whether the producer fsynced the temp file itself (synced) or left that to writeAtomic', async () => {
    const target = path.join(dir, 'state.json');
    await writeAtomic(target, async (temp) => writeFileSync(temp, '{"a":1}'), { synced: false });
    expect(readFileSync(target, 'utf8')).toBe('{"a":1}');
    await writeAtomic(target, async (temp) => writeFileSync(temp, '{"a":2}', { flush: true }), { synced: true });
    expect(readFileSync(target, 'utf8')).toBe('{"a":2}');
  });
});

describe.runIf(process.platform === 'linux')('writeAtomic: a big replaced file is freed after the task', () => {
  const big = (fill: number) => Buffer.alloc(FREE_LATER_MIN_BYTES, fill);

  it('holds the replaced file until freeReplacedFilesAfter settles, then frees it', async () => {
    const target = path.join(dir, 'database.bin');
    writeFileSync(target, big(1));
    const fresh = big(2);
    let heldInside: string[] = [];
    const result = await freeReplacedFilesAfter(async () => {
      await write(target, fresh);
      heldInside = heldDeletedFiles(dir);
      return 'done';
    });
    expect(result).toBe('done');
    expect(heldInside).toEqual([`${target} (deleted)`]);
    await replacedFilesFreed();
    expect(heldDeletedFiles(dir)).toEqual([]);
    expect(readFileSync(target).equals(fresh)).toBe(true);
    expect(readdirSync(dir)).toEqual(['database.bin']);
  });

  it('frees it when the task fails after the write too', async () => {
    const target = path.join(dir, 'database.bin');
    writeFileSync(target, big(1));
    const failed = freeReplacedFilesAfter(async () => {
      await write(target, big(3));
      throw new VecSnapError('IO_ERROR', 'later step failed');
    });
    await expect(failed).rejects.toMatchObject({ code: 'IO_ERROR' });
    await replacedFilesFreed();
    expect(heldDeletedFiles(dir)).toEqual([]);
    expect(readFileSync(target)[0]).toBe(3);
  });

  it('outside such a task, frees it right after the write', async () => {
    const target = path.join(dir, 'database.bin');
    writeFileSync(target, big(1));
    await write(target, Buffer.from('small now'));
    await replacedFilesFreed();
    expect(heldDeletedFiles(dir)).toEqual([]);
    expect(readFileSync(target, 'utf8')).toBe('small now');
  });

  it('holds nothing for a smaller file', async () => {
    const target = path.join(dir, 'state.bin');
    writeFileSync(target, Buffer.alloc(FREE_LATER_MIN_BYTES - 1, 1));
    await freeReplacedFilesAfter(async () => {
      await write(target, Buffer.from('new'));
      expect(heldDeletedFiles(dir)).toEqual([]);
    });
    expect(readFileSync(target, 'utf8')).toBe('new');
  });

  it('replaces a symbolic link itself and leaves the file it pointed to alone', async () => {
    const real = path.join(dir, 'real.bin');
    const contents = big(5);
    writeFileSync(real, contents);
    const target = path.join(dir, 'link.bin');
    symlinkSync(real, target);
    await freeReplacedFilesAfter(async () => {
      await write(target, Buffer.from('replaced the link'));
      expect(heldDeletedFiles(dir)).toEqual([]);
    });
    expect(readFileSync(target, 'utf8')).toBe('replaced the link');
    expect(readFileSync(real).equals(contents)).toBe(true);
  });

  it('replaces a named pipe without waiting for a writer to open it', async () => {
    const target = path.join(dir, 'pipe.bin');
    execFileSync('mkfifo', [target]);
    await freeReplacedFilesAfter(() => write(target, Buffer.from('a file now')));
    expect(readFileSync(target, 'utf8')).toBe('a file now');
  });
});

describe('cleanupStaleTemps', () => {
  it("removes what a dead writer left and keeps a live writer's temp file", async () => {
    const target = path.join(dir, 'database.bin');
    writeFileSync(target, 'current');
    const live = tempPathFor(target);
    writeFileSync(live, 'being written');
    // A pid no process has: Linux caps pids at 2^22.
    const dead = path.join(dir, `.database.bin.${2 ** 22 + 1}.0badc0de.vecsnap-tmp`);
    writeFileSync(dead, 'left by a crash');
    const removed = await cleanupStaleTemps(dir);
    expect(removed).toEqual([path.basename(dead)]);
    expect(readdirSync(dir).sort()).toEqual([path.basename(live), 'database.bin'].sort());
    expect(readFileSync(target, 'utf8')).toBe('current');
  });
});
