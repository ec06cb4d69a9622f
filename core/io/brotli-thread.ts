import { Duplex } from 'node:stream';
import { Worker } from 'node:worker_threads';

/**
 * Brotli driven from a thread of its own.
 *
 * zlib's stream does its work on libuv's pool, a piece at a time (one piece per 256 KiB of
 * output), and the next piece is started by the thread that owns the stream once it hears the
 * last one ended. On the main thread that hearing waits for whatever the encoder is doing: in a
 * 100k × 384 JSON save, brotli worked 11.5 s of the 14.8 s it took, idle while JSON text was
 * built. On a worker whose event loop does nothing else, the next piece starts at once. Brotli has
 * no framing that would let blocks be compressed apart (see parallel-gzip.ts), so it stays one
 * stream, fed from here in blocks that travel to the worker and back (transferred, not copied).
 */
const INPUT_BYTES = 4 * 1024 * 1024;
/** Blocks handed over and not yet consumed: ~200 ms of brotli's work, what a busy encoder may need. */
const IN_FLIGHT = 4;
const OUTPUT_BYTES = 1024 * 1024;
/** Compressed bytes waiting for the reader (a slow disk) before no more input is taken. */
const OUTPUT_WAITING = 8 * 1024 * 1024;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
const streams = new Map();
function fail(id, err) {
  const s = streams.get(id);
  if (s) { streams.delete(id); s.z.destroy(); }
  parentPort.postMessage({ id, op: 'error', message: String((err && err.message) || err) });
}
function open(id, params) {
  const z = zlib.createBrotliCompress({ params, chunkSize: 256 * 1024 });
  const s = { z, out: new ArrayBuffer(${OUTPUT_BYTES}), filled: 0 };
  const ship = () => {
    if (s.filled === 0) return;
    parentPort.postMessage({ id, op: 'out', out: s.out, length: s.filled }, [s.out]);
    s.out = new ArrayBuffer(${OUTPUT_BYTES});
    s.filled = 0;
  };
  z.on('data', (chunk) => {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, ${OUTPUT_BYTES} - s.filled);
      new Uint8Array(s.out, s.filled, n).set(chunk.subarray(offset, offset + n));
      s.filled += n;
      offset += n;
      if (s.filled === ${OUTPUT_BYTES}) ship();
    }
  });
  z.on('end', () => {
    ship();
    streams.delete(id);
    parentPort.postMessage({ id, op: 'end' });
  });
  z.on('error', (err) => fail(id, err));
  streams.set(id, s);
}
parentPort.on('message', (m) => {
  try {
    if (m.op === 'open') open(m.id, m.params);
    else if (m.op === 'write') {
      const s = streams.get(m.id);
      if (!s) return;
      s.z.write(Buffer.from(m.input, 0, m.length), (err) => {
        if (err) return;
        parentPort.postMessage({ id: m.id, op: 'written', input: m.input }, [m.input]);
      });
    } else if (m.op === 'end') streams.get(m.id)?.z.end();
    else if (m.op === 'drop') {
      const s = streams.get(m.id);
      streams.delete(m.id);
      s?.z.destroy();
    }
  } catch (err) {
    fail(m.id, err);
  }
});
`;

type Reply =
  | { id: number; op: 'written'; input: ArrayBuffer }
  | { id: number; op: 'out'; out: ArrayBuffer; length: number }
  | { id: number; op: 'end' }
  | { id: number; op: 'error'; message: string };

interface Thread {
  worker: Worker;
  streams: Map<number, BrotliThreadCompress>;
}

const threads: Thread[] = [];
let unavailable = false;
let nextId = 1;

function retire(thread: Thread, error: Error): void {
  const index = threads.indexOf(thread);
  if (index >= 0) threads.splice(index, 1);
  for (const stream of thread.streams.values()) stream.destroy(error);
  thread.streams.clear();
}

function startThread(): Thread | undefined {
  let worker: Worker;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true, name: 'vecsnap-brotli' });
  } catch {
    unavailable = true;
    return undefined;
  }
  const thread: Thread = { worker, streams: new Map() };
  let online = false;
  worker.once('online', () => (online = true));
  // A thread that dies before it ran cannot start here (out of memory, a host without
  // workers): its stream fails, and later ones use zlib's own stream.
  const died = (error: Error): void => {
    if (!online) unavailable = true;
    retire(thread, error);
  };
  worker.on('message', (m: Reply) => thread.streams.get(m.id)?.onReply(m));
  worker.on('error', died);
  worker.on('exit', (code) => died(new Error(`The brotli thread stopped (exit code ${code}).`)));
  // Only an open stream keeps the process alive. After the listeners: adding a 'message'
  // listener refs the worker again.
  worker.unref();
  threads.push(thread);
  return thread;
}

/** An idle thread, or a new one: each open stream has a thread to itself. */
function idleThread(): Thread | undefined {
  return threads.find((t) => t.streams.size === 0) ?? startThread();
}

/** False when no worker can run here (or VECSNAP_BROTLI_THREAD=0): compress on zlib's own stream. */
export function brotliThreadAvailable(): boolean {
  return !unavailable && process.env.VECSNAP_BROTLI_THREAD !== '0';
}

/** For tests: brotli threads started so far. */
export function brotliThreadCount(): number {
  return threads.length;
}

/**
 * For tests: ends every thread as a crash would. They leave the pool at once: each one's exit
 * event comes on its own time, and a stream started between two of them was given a thread
 * that was already dying (CI failed on that). Their streams still fail through the exit event.
 */
export function crashBrotliThreadForTest(): void {
  for (const t of threads.splice(0)) void t.worker.terminate();
}

/** A brotli compressor (one stream, `params` as zlib takes them) whose work is driven from a worker. */
export class BrotliThreadCompress extends Duplex {
  private readonly id = nextId++;
  private readonly thread: Thread;
  private block: ArrayBuffer = new ArrayBuffer(INPUT_BYTES);
  private filled = 0;
  private inFlight = 0;
  private readonly spare: ArrayBuffer[] = [];
  /** Called when a block comes back, or the reader takes output, while the writer waits for room. */
  private onRoom: (() => void) | undefined;
  private onEnd: (() => void) | undefined;

  constructor(params: Record<number, number>) {
    // _read, which lets a writer waiting for the reader go on, comes only once the output waiting
    // is below this mark: at the default 16 KiB, brotli and a slow disk took turns.
    super({ readableHighWaterMark: OUTPUT_WAITING });
    const thread = idleThread();
    if (!thread) throw new Error('No brotli thread could start.');
    this.thread = thread;
    thread.streams.set(this.id, this);
    thread.worker.ref();
    thread.worker.postMessage({ op: 'open', id: this.id, params });
  }

  // A Duplex, not a Transform: output arrives on its own schedule, and a Transform's flow control
  // assumes it is pushed from inside _transform (it deadlocked when it was not).
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    let offset = 0;
    const next = (): void => {
      while (offset < chunk.length) {
        if (this.filled === INPUT_BYTES) {
          if (this.inFlight >= IN_FLIGHT || this.readableLength >= OUTPUT_WAITING) {
            this.onRoom = next;
            return;
          }
          this.send();
        }
        const n = Math.min(chunk.length - offset, INPUT_BYTES - this.filled);
        new Uint8Array(this.block, this.filled, n).set(chunk.subarray(offset, offset + n));
        this.filled += n;
        offset += n;
      }
      done();
    };
    next();
  }

  override _read(): void {
    // Called before the reader takes its bytes out: only afterwards is the output below the mark.
    process.nextTick(() => this.wake());
  }

  override _final(done: (error?: Error | null) => void): void {
    if (this.filled > 0) this.send();
    this.onEnd = () => {
      this.push(null);
      done();
    };
    this.thread.worker.postMessage({ op: 'end', id: this.id });
  }

  override _destroy(err: Error | null, done: (error: Error | null) => void): void {
    // Still open on the thread (not ended, failed or retired): the worker forgets it.
    if (this.release()) this.thread.worker.postMessage({ op: 'drop', id: this.id });
    done(err);
  }

  /** Messages from the worker for this stream, in the order it sent them. */
  onReply(m: Reply): void {
    switch (m.op) {
      case 'written': {
        this.inFlight--;
        if (this.spare.length < IN_FLIGHT) this.spare.push(m.input);
        this.wake();
        return;
      }
      case 'out':
        this.push(Buffer.from(m.out, 0, m.length));
        return;
      case 'end':
        this.release();
        this.onEnd?.();
        return;
      case 'error':
        this.release();
        this.destroy(new Error(`brotli failed: ${m.message}`));
    }
  }

  private wake(): void {
    const resume = this.onRoom;
    this.onRoom = undefined;
    resume?.();
  }

  private send(): void {
    const input = this.block;
    this.thread.worker.postMessage({ op: 'write', id: this.id, input, length: this.filled }, [input]);
    this.inFlight++;
    this.block = this.spare.pop() ?? new ArrayBuffer(INPUT_BYTES);
    this.filled = 0;
  }

  /** Frees the thread for other streams (and the process to exit); false if it already was. */
  private release(): boolean {
    if (!this.thread.streams.delete(this.id)) return false;
    if (this.thread.streams.size === 0) this.thread.worker.unref();
    return true;
  }
}
