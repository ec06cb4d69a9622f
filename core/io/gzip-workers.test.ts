import { randomFillSync } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gzipMember, gzipPoolSize, gzipWorkerCount } from './gzip-workers.js';

/** nice value of every thread of this process, by thread id (Linux). */
function threadNiceness(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; nice is field 19.
    out.set(tid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
  }
  return out;
}

describe('gzip workers', () => {
  it('compress a block into one member that gunzips to it, and hand the block back', async () => {
    const data = randomFillSync(Buffer.alloc(3 * 1024 * 1024));
    data.fill(7, 0, 1024 * 1024); // compressible and incompressible parts
    const block = new ArrayBuffer(4 * 1024 * 1024);
    new Uint8Array(block).set(data);
    const { input, member } = await gzipMember(block, data.length, 6);
    expect(block.byteLength).toBe(0); // it was transferred
    expect(input.byteLength).toBe(4 * 1024 * 1024);
    expect(Buffer.from(input, 0, data.length).equals(data)).toBe(true);
    expect(zlib.gunzipSync(member).equals(data)).toBe(true);
  });

  it('run side by side, no more of them than the pool holds', async () => {
    const jobs = Array.from({ length: 3 * gzipPoolSize() }, (_, i) => {
      const block = new ArrayBuffer(64 * 1024);
      new Uint8Array(block).fill(i);
      return gzipMember(block, 64 * 1024, 1);
    });
    const results = await Promise.all(jobs);
    results.forEach(({ member }, i) => expect(zlib.gunzipSync(member).equals(Buffer.alloc(64 * 1024, i))).toBe(true));
    expect(gzipWorkerCount()).toBeGreaterThanOrEqual(1);
    expect(gzipWorkerCount()).toBeLessThanOrEqual(gzipPoolSize());
  });

  it.runIf(process.platform === 'linux')('run at a lower priority than the thread that waits for them (nice 10)', async () => {
    const before = threadNiceness();
    const block = new ArrayBuffer(1024);
    await gzipMember(block, 1024, 6);
    const reniced = [...threadNiceness()].filter(([, nice]) => nice === 10);
    expect(gzipWorkerCount()).toBeGreaterThanOrEqual(1);
    expect(reniced.length).toBeGreaterThanOrEqual(gzipWorkerCount());
    // Only the workers: the main thread and every other thread keep their priority.
    expect(threadNiceness().get(String(process.pid))).toBe(before.get(String(process.pid)));
    expect([...before.values()].every((nice) => nice === 0 || nice === 10)).toBe(true);
  });

  it('report a compression failure for that block only', async () => {
    // zlib refuses level 42; the worker answers with an error instead of dying.
    await expect(gzipMember(new ArrayBuffer(16), 16, 42)).rejects.toThrow(/gzip failed/);
    const { member } = await gzipMember(new ArrayBuffer(16), 16, 6);
    expect(zlib.gunzipSync(member).length).toBe(16);
  });

  it('refuse a block that cannot be handed over, and stay usable', async () => {
    const block = new ArrayBuffer(16);
    await gzipMember(block, 16, 6); // transferred: detached here now
    await expect(gzipMember(block, 16, 6)).rejects.toThrow();
    const { member } = await gzipMember(new ArrayBuffer(16), 16, 6);
    expect(zlib.gunzipSync(member).length).toBe(16);
  });
});
