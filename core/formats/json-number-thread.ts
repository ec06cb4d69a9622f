import { Worker } from 'node:worker_threads';
import { float32TextSource } from './json-scanner.js';

/**
 * The JSON number thread: a second thread that turns vector text into float32 (loads) and float32
 * into vector text (saves), the two costs that dominate the JSON format. It runs the very
 * functions json-scanner.ts runs here (float32TextSource), so both threads read and write the
 * same text. Every buffer travels by transfer, never by copy; one thread serves every caller in
 * the process, in order.
 */

/** What a parse job returns: the vectors, and the entries whose vector text it refused. */
export interface ParsedVectors {
  vectors: Float32Array;
  /** Entry indexes (ascending) that parseFloat32Array refused: the caller parses those itself. */
  failed: Int32Array;
  /** The text it was given, handed back (its buffer was transferred to the thread and back). */
  stage: Uint8Array;
}

/** What a format job returns. */
export interface FormattedVectors {
  /** Entry k's vector text (its components comma-separated, no brackets) is text[ends[k − 1] … ends[k]), ends[−1] = 0. */
  text: Uint8Array;
  ends: Int32Array;
  /** The first entry with a NaN or infinite component (its text and the rest's are not there), or −1. */
  failed: number;
  /** The values it was given, handed back for reuse. */
  values: Float32Array;
  /** Milliseconds the thread spent formatting: the caller balances its share of the work by it. */
  busyMs: number;
}

/** Most bytes writeFloat32Array writes per value, comma included. */
export const MAX_FLOAT_TEXT_BYTES = 25;

/**
 * The thread's program: the number code, and a loop serving two jobs. "parse" parses `count`
 * arrays from the text it is handed into one Float32Array (entries with start −1 are skipped: the
 * caller fills them). "format" writes `count` vectors of `dim` values as text into the buffer it
 * is handed (or a bigger one), recording where each ends. Buffers go back by transfer. It says
 * "ready" once it runs.
 */
function threadSource(): string {
  return [
    float32TextSource(),
    "const { parentPort } = require('node:worker_threads');",
    `const MAX_FLOAT_TEXT_BYTES = ${MAX_FLOAT_TEXT_BYTES};`,
    `function parseJob({ id, stage, starts, count, dim }) {
      const buf = Buffer.from(stage.buffer, stage.byteOffset, stage.byteLength);
      const vectors = new Float32Array(count * dim);
      const failed = [];
      for (let k = 0; k < count; k++) {
        if (starts[k] >= 0 && parseFloat32Array(buf, starts[k], vectors, k * dim, dim) < 0) failed.push(k);
      }
      parentPort.postMessage({ id, vectors, failed: Int32Array.from(failed), stage }, [vectors.buffer, stage.buffer]);
    }`,
    `function formatJob({ id, values, count, dim, out }) {
      const started = performance.now();
      const need = count * dim * MAX_FLOAT_TEXT_BYTES;
      const buf = out && out.byteLength >= need ? Buffer.from(out.buffer, out.byteOffset, out.byteLength) : Buffer.allocUnsafeSlow(need);
      const ends = new Int32Array(count);
      let o = 0;
      let failed = -1;
      for (let k = 0; k < count; k++) {
        o = writeFloat32Array(buf, o, values, k * dim, k * dim + dim);
        if (o < 0) {
          failed = k;
          break;
        }
        ends[k] = o;
      }
      const text = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      const busyMs = performance.now() - started;
      parentPort.postMessage({ id, text, ends, failed, values, busyMs }, [text.buffer, ends.buffer, values.buffer]);
    }`,
    // A job that fails (say, out of memory for its buffer) is answered with its error; the thread
    // stays up for the other jobs, which may belong to another save or load.
    // The job's own buffers go back with the error, so the caller can still do the job itself.
    `parentPort.on('message', (job) => {
      try {
        if (job.failForTest) throw new Error('a job made to fail by a test');
        if (job.op === 'format') formatJob(job);
        else parseJob(job);
      } catch (err) {
        const error = String((err && err.message) || err);
        const back = {};
        const transfer = [];
        for (const key of ['stage', 'values', 'out']) {
          const a = job[key];
          if (a && a.buffer.byteLength > 0 && !transfer.includes(a.buffer)) {
            back[key] = a;
            transfer.push(a.buffer);
          }
        }
        try {
          parentPort.postMessage({ id: job.id, error, ...back }, transfer);
        } catch {
          parentPort.postMessage({ id: job.id, error });
        }
      } finally {
        // The parser caches a view of the last buffer it read; that buffer has gone back.
        viewOf = undefined;
        view = undefined;
      }
    });`,
    'parentPort.postMessage({ ready: true });',
  ].join('\n');
}

interface NumberThread {
  worker: Worker;
  jobs: Map<number, { resolve: (result: never) => void; reject: (err: Error) => void }>;
  next: number;
  ready: boolean;
  stopped: boolean;
}

/** The buffers a failed job was handed, back from the thread. */
interface ReturnedBuffers {
  stage?: Uint8Array;
  values?: Float32Array;
  out?: Uint8Array;
}

/**
 * A job the thread answered with an error (the thread itself is still up). Unlike a stopped
 * thread, it returns the job's buffers: the caller can do the job on its own thread.
 */
export class NumberJobError extends Error {
  constructor(
    message: string,
    readonly returned: ReturnedBuffers,
  ) {
    super(message);
    this.name = 'NumberJobError';
  }
}

let numberThread: NumberThread | undefined;
/** Threads that stopped unasked. After MAX_STOPS the work stays on the calling threads. */
let stops = 0;
const MAX_STOPS = 2;
let lastStop = '';
/** Entries whose vector text the thread wrote, and jobs it answered with an error: for tests and diagnostics. */
let formattedEntries = 0;
let failedJobs = 0;
/** Set by failNextNumberJobForTest. */
let failNext = false;

function startNumberThread(): NumberThread {
  if (numberThread) return numberThread;
  if (stops >= MAX_STOPS) throw new Error(`The JSON number thread stopped ${stops} times (${lastStop}); the work stays on this thread.`);
  const worker = new Worker(threadSource(), { eval: true, name: 'vecsnap-json-numbers' });
  const thread: NumberThread = { worker, jobs: new Map(), next: 1, ready: false, stopped: false };
  worker.on('message', (message: { id: number; ready?: boolean; error?: string; ends?: Int32Array; failed?: number } & ReturnedBuffers) => {
    if (message.ready === true) {
      thread.ready = true;
      return;
    }
    const job = thread.jobs.get(message.id);
    if (!job) return;
    thread.jobs.delete(message.id);
    if (thread.jobs.size === 0) worker.unref();
    if (message.error !== undefined) {
      failedJobs++;
      const { stage, values, out } = message;
      job.reject(new NumberJobError(`The JSON number thread could not do a job: ${message.error}`, { stage, values, out }));
      return;
    }
    if (message.ends) formattedEntries += message.failed !== undefined && message.failed >= 0 ? message.failed : message.ends.length;
    job.resolve(message as never);
  });
  const fail = (err: Error): void => {
    if (numberThread === thread) numberThread = undefined;
    if (!thread.stopped) {
      thread.stopped = true;
      stops++;
      lastStop = err.message;
    }
    for (const job of thread.jobs.values()) job.reject(err);
    thread.jobs.clear();
  };
  worker.on('error', fail);
  worker.on('exit', () => fail(new Error('The JSON number thread stopped.')));
  worker.unref(); // an idle thread never keeps the process alive; a busy one does
  numberThread = thread;
  return thread;
}

/**
 * Starts the number thread if needed; true once it runs (until then, and when it cannot start,
 * callers do the work on their own thread).
 */
export function numberThreadReady(): boolean {
  try {
    return startNumberThread().ready;
  } catch {
    return false;
  }
}

function submit<T>(message: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<T> {
  let thread: NumberThread;
  try {
    thread = startNumberThread();
  } catch (err) {
    return Promise.reject(err as Error);
  }
  const id = thread.next++;
  const failForTest = failNext;
  failNext = false;
  return new Promise<T>((resolve, reject) => {
    thread.jobs.set(id, { resolve: resolve as (result: never) => void, reject });
    thread.worker.ref();
    try {
      thread.worker.postMessage({ ...message, id, ...(failForTest ? { failForTest } : {}) }, transfer);
    } catch (err) {
      thread.jobs.delete(id);
      if (thread.jobs.size === 0) thread.worker.unref();
      reject(err as Error);
    }
  });
}

/** For tests and diagnostics. */
export function numberThreadStats(): { formattedEntries: number; failedJobs: number; stops: number } {
  return { formattedEntries, failedJobs, stops };
}

/** For tests: the next job sent fails inside the thread, as one that runs out of memory would. */
export function failNextNumberJobForTest(): void {
  failNext = true;
}

/**
 * Parses the arrays at stage[starts[k]] (k < count; −1 = skip) on the number thread, like
 * parseFloat32Array. The buffer of `stage` is transferred (unusable here until it comes back in
 * the result). Rejects when the thread stops meanwhile, or with a NumberJobError that returns
 * `stage` when the thread could not do the job.
 */
export function parseVectorsOffThread(stage: Uint8Array, starts: Int32Array, count: number, dim: number): Promise<ParsedVectors> {
  return submit({ op: 'parse', stage, starts, count, dim }, [stage.buffer as ArrayBuffer]);
}

/**
 * Writes `count` vectors of `dim` values (values[0 … count·dim)) as text on the number thread,
 * like writeFloat32Array. `values` must own its whole buffer, and so must `out` (a buffer to
 * write into, normally the `text` of an earlier result; a bigger one is made when it is too
 * small): both are transferred and come back in the result (or in the NumberJobError of a job
 * the thread could not do). Rejects when the thread stops meanwhile.
 */
export function formatVectorsOffThread(values: Float32Array, count: number, dim: number, out?: Uint8Array): Promise<FormattedVectors> {
  const transfer = [values.buffer as ArrayBuffer];
  if (out) transfer.push(out.buffer as ArrayBuffer);
  return submit({ op: 'format', values, count, dim, out }, transfer);
}

/**
 * How a chunk's entries are divided between the calling thread and the number thread so that
 * neither waits for the other: by the time each side took for its part of the last chunks. (The
 * caller's time also covers ids, metadata and output, and both threads share the cores with
 * hashing and I/O, so a fixed half would leave one of them waiting.)
 */
export class WorkShare {
  /** Of a chunk's entries, the part the calling thread writes. */
  private fraction = 0.5;

  /** Entries [0, split) are the caller's, [split, n) the thread's; both sides get at least one. */
  split(n: number): number {
    return Math.min(n - 1, Math.max(1, Math.round(n * this.fraction)));
  }

  /**
   * The caller took `mineMs` while the thread's part took `theirMs`. Moving one entry across
   * changes the difference by the two per-entry costs; those estimates include each side's fixed
   * costs, so the step undershoots and the share settles without swinging.
   */
  record(mine: number, mineMs: number, theirs: number, theirMs: number): void {
    if (!(mine > 0 && theirs > 0 && mineMs > 0 && theirMs > 0)) return;
    const total = mine + theirs;
    const step = (theirMs - mineMs) / ((mineMs / mine + theirMs / theirs) * total);
    this.fraction = Math.min(0.9, Math.max(0.1, this.fraction + step));
  }
}
