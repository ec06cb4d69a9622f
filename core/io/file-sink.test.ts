import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { busyThreadPool, fileHandlePrototype, tempDir } from '../test-helpers/fixtures.js';
import { pipeIntoFile } from './file-sink.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => {
  vi.restoreAllMocks();
  cleanup();
});

function openDescriptorsOf(file: string): number {
  if (process.platform !== 'linux') return 0;
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(file)) n++;
    } catch {
      // closed between the listing and the readlink
    }
  }
  return n;
}

describe('pipeIntoFile', () => {
  it('writes every byte and closes the file before it resolves', async () => {
    const file = path.join(dir, 'out');
    const pieces = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i));
    await pipeIntoFile(file, () => [Readable.from(pieces)], { highWaterMark: 4096 });
    expect(readFileSync(file).equals(Buffer.concat(pieces))).toBe(true);
    expect(openDescriptorsOf(file)).toBe(0);
  });

  it('refuses to replace an existing file unless told to', async () => {
    const file = path.join(dir, 'out');
    await pipeIntoFile(file, () => [Readable.from([Buffer.from('first')])]);
    await expect(pipeIntoFile(file, () => [Readable.from([Buffer.from('second')])])).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(file, 'utf8')).toBe('first');
    await pipeIntoFile(file, () => [Readable.from([Buffer.from('second')])], { flags: 'w' });
    expect(readFileSync(file, 'utf8')).toBe('second');
  });

  it('builds no stage when the file cannot be opened (no source left open)', async () => {
    let built = 0;
    const make = () => {
      built++;
      return [Readable.from([Buffer.from('x')])];
    };
    await expect(pipeIntoFile(path.join(dir, 'missing', 'out'), make)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(built).toBe(0);
  });

  // The bug this guards against: the pipeline failed before the background open finished, the
  // caller removed the file, then the open created it. A busy thread pool makes that certain.
  it('a file removed after a failure stays removed, however late the open would have run', async () => {
    const file = path.join(dir, 'out');
    const busy = busyThreadPool();
    const failing = new Readable({
      read() {
        this.destroy(new Error('source failed'));
      },
    });
    await expect(pipeIntoFile(file, () => [failing])).rejects.toThrow('source failed');
    expect(openDescriptorsOf(file)).toBe(0);
    rmSync(file, { force: true });
    await busy;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(existsSync(file)).toBe(false);
  });

  it('an abort mid-stream rejects only after the descriptor is closed', async () => {
    const file = path.join(dir, 'out');
    const controller = new AbortController();
    let sent = 0;
    const source = new Readable({
      read() {
        if (++sent === 20) controller.abort();
        this.push(Buffer.alloc(64 * 1024, sent));
      },
    });
    await expect(pipeIntoFile(file, () => [source], { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(openDescriptorsOf(file)).toBe(0);
  });

  describe('early write-back', () => {
    it('asks for write-back while the file is produced, never two at once, and writes every byte', async () => {
      const proto = await fileHandlePrototype(dir);
      let running = 0;
      let most = 0;
      const calls = vi.spyOn(proto, 'datasync').mockImplementation(async function (this: unknown) {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
      });
      const file = path.join(dir, 'out');
      const pieces = Array.from({ length: 64 }, (_, i) => Buffer.alloc(64 * 1024, i));
      await pipeIntoFile(file, () => [Readable.from(pieces)], { writebackEveryBytes: 256 * 1024 });
      expect(readFileSync(file).equals(Buffer.concat(pieces))).toBe(true);
      expect(calls.mock.calls.length).toBeGreaterThanOrEqual(2);
      expect(calls.mock.calls.length).toBeLessThanOrEqual(16);
      expect(most).toBe(1);
    });

    it('fails the write when a write-back fails (the error would not be reported again)', async () => {
      const proto = await fileHandlePrototype(dir);
      vi.spyOn(proto, 'datasync').mockRejectedValue(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
      const file = path.join(dir, 'out');
      const pieces = Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024, 1));
      await expect(pipeIntoFile(file, () => [Readable.from(pieces)], { writebackEveryBytes: 256 * 1024 })).rejects.toMatchObject({ code: 'EIO' });
      expect(openDescriptorsOf(file)).toBe(0);
    });
  });

  describe('sync', () => {
    it('fsyncs the file on its own descriptor before closing it', async () => {
      const calls = vi.spyOn(await fileHandlePrototype(dir), 'sync');
      const file = path.join(dir, 'out');
      await pipeIntoFile(file, () => [Readable.from([Buffer.from('durable')])], { sync: true });
      expect(calls).toHaveBeenCalledTimes(1);
      expect(readFileSync(file, 'utf8')).toBe('durable');
    });

    it('a failed fsync fails the write and closes the file', async () => {
      vi.spyOn(await fileHandlePrototype(dir), 'sync').mockRejectedValue(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      const file = path.join(dir, 'out');
      await expect(pipeIntoFile(file, () => [Readable.from([Buffer.from('x')])], { sync: true })).rejects.toMatchObject({ code: 'EIO' });
      expect(openDescriptorsOf(file)).toBe(0);
    });
  });
});
