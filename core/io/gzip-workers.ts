import os from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * gzip members are compressed on worker threads that lower their own priority (nice 10).
 *
 * On libuv's thread pool (zlib.gzip) the compressing threads shared the pool with the file reads
 * and writes and ran at the main thread's priority. Niceness on Linux is per thread, so these
 * workers renice themselves: the main and hashing threads win every contended slice, while an
 * idle machine still gives compression all of it. Input blocks travel to the worker and back
 * (transferred, not copied), so they can be reused.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const os = require('node:os');
const zlib = require('node:zlib');
try { os.setPriority(0, 10); } catch {}
parentPort.on('message', (m) => {
  try {
    const gz = zlib.gzipSync(new Uint8Array(m.input, 0, m.length), { level: m.level, chunkSize: 1 << 20 });
    // A small or single-piece result may share its memory; only a whole ArrayBuffer can move.
    const whole = gz.byteOffset === 0 && gz.byteLength === gz.buffer.byteLength;
    const out = whole ? gz.buffer : gz.buffer.slice(gz.byteOffset, gz.byteOffset + gz.byteLength);
    parentPort.postMessage({ id: m.id, input: m.input, out }, [m.input, out]);
  } catch (err) {
    parentPort.postMessage({ id: m.id, input: m.input, error: String((err && err.message) || err) }, [m.input]);
  }
});
`;

export interface GzipResult {
  /** The input block, handed back for reuse. */
  input: ArrayBuffer;
  member: Buffer;
}

interface Job {
  resolve: (result: GzipResult) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
}

let nextId = 1;
const slots: Slot[] = [];

/** One worker per core: more would only take turns on the same cores. */
export function gzipPoolSize(): number {
  return Math.max(2, Math.min(os.availableParallelism(), 8));
}

function retire(slot: Slot, error: Error): void {
  const index = slots.indexOf(slot);
  if (index >= 0) slots.splice(index, 1);
  for (const job of slot.jobs.values()) job.reject(error);
  slot.jobs.clear();
}

function startSlot(): Slot {
  const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'vecsnap-gzip' });
  const slot: Slot = { worker, jobs: new Map() };
  // Only pending work keeps the process alive (see gzipMember).
  worker.unref();
  worker.on('message', (m: { id: number; input: ArrayBuffer; out?: ArrayBuffer; error?: string }) => {
    const job = slot.jobs.get(m.id);
    if (!job) return;
    slot.jobs.delete(m.id);
    if (slot.jobs.size === 0) worker.unref();
    if (m.error !== undefined || !m.out) job.reject(new Error(`gzip failed: ${m.error ?? 'no output'}`));
    else job.resolve({ input: m.input, member: Buffer.from(m.out) });
  });
  worker.on('error', (err) => retire(slot, err));
  worker.on('exit', (code) => retire(slot, new Error(`The gzip worker stopped (exit code ${code}).`)));
  slots.push(slot);
  return slot;
}

/** An idle worker, starting workers up to the pool's size as they are needed, else the least busy. */
function pick(): Slot {
  const idle = slots.find((s) => s.jobs.size === 0);
  if (idle) return idle;
  if (slots.length < gzipPoolSize()) return startSlot();
  return slots.reduce((best, s) => (s.jobs.size < best.jobs.size ? s : best));
}

/**
 * Compresses `length` bytes of `input` into one gzip member on a background worker. `input` is
 * transferred: it is unusable here until the result hands it back.
 */
export function gzipMember(input: ArrayBuffer, length: number, level: number): Promise<GzipResult> {
  const slot = pick();
  const id = nextId++;
  return new Promise<GzipResult>((resolve, reject) => {
    slot.jobs.set(id, { resolve, reject });
    if (slot.jobs.size === 1) slot.worker.ref();
    try {
      slot.worker.postMessage({ id, input, length, level }, [input]);
    } catch (err) {
      // Not sent (a detached or untransferable buffer): nothing will answer this job.
      slot.jobs.delete(id);
      if (slot.jobs.size === 0) slot.worker.unref();
      reject(err as Error);
    }
  });
}

/** How many gzip workers run now (for tests). */
export function gzipWorkerCount(): number {
  return slots.length;
}
