import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { VecSnapError } from '../errors.js';

/**
 * SHA-256 on a second thread. A save or load of 100k × 384 hashes 150 MB once or twice, about
 * 75 ms each on this thread; on a worker the hashing overlaps encoding and decoding, and the event
 * loop stays free. Data reaches the worker through a small ring of shared staging slots: one
 * memcpy per byte (~20× cheaper than hashing it) and no allocation per update.
 */
export interface Sha256 {
  update(data: Uint8Array): void;
  /** Hex digest; waits (briefly: at most the slots still queued) for the worker to catch up. */
  digest(): string;
}

const SLOT_BYTES = 4 * 1024 * 1024;
const SLOTS = 3;
/** A worker that has not answered in this long is gone (its process is being torn down). */
const WAIT_MS = 30_000;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'open') {
    hashes.set(m.id, { hash: createHash('sha256'), data: new Uint8Array(m.sab), state: new Int32Array(m.state) });
  } else if (m.op === 'update') {
    const h = hashes.get(m.id);
    h.hash.update(h.data.subarray(m.slot * ${SLOT_BYTES}, m.slot * ${SLOT_BYTES} + m.length));
    Atomics.store(h.state, m.slot, 0);
    Atomics.notify(h.state, m.slot);
  } else if (m.op === 'digest') {
    const h = hashes.get(m.id);
    hashes.delete(m.id);
    const hex = h.hash.digest('hex');
    const out = new Uint8Array(m.result, 4);
    for (let i = 0; i < 64; i++) out[i] = hex.charCodeAt(i);
    const flag = new Int32Array(m.result, 0, 1);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  } else if (m.op === 'drop') {
    hashes.delete(m.id);
  }
});
`;

let worker: Worker | undefined;
let workerBroken = false;
let nextId = 1;

function hashWorker(): Worker | undefined {
  // VECSNAP_HASH_THREAD=0 hashes inline: for comparing the two in a benchmark, or a host without threads.
  if (workerBroken || process.env.VECSNAP_HASH_THREAD === '0') return undefined;
  if (!worker) {
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true });
    } catch {
      workerBroken = true;
      return undefined;
    }
    // Idle between jobs: it must not keep a CLI process alive.
    worker.unref();
    const retire = (): void => {
      workerBroken = true;
      worker = undefined;
    };
    worker.on('error', retire);
    worker.on('exit', retire);
  }
  return worker;
}

function waitFor(state: Int32Array, index: number, busy: number): void {
  const deadline = Date.now() + WAIT_MS;
  while (Atomics.load(state, index) === busy) {
    if (workerBroken || Date.now() > deadline) {
      throw new VecSnapError('IO_ERROR', 'The hashing thread stopped before it finished; the operation was not completed.');
    }
    Atomics.wait(state, index, busy, 100);
  }
}

/** Hashes that were dropped unfinished (an aborted save): the worker forgets their state. */
const abandoned = new FinalizationRegistry<number>((id) => worker?.postMessage({ op: 'drop', id }));

/**
 * Bytes are staged in shared slots. Until the first slot fills, nothing involves the worker: a
 * small stream is hashed inline at digest(), so tiny saves never pay for a thread round trip.
 */
class StreamSha256 implements Sha256 {
  private readonly id = nextId++;
  private readonly sab = new SharedArrayBuffer(SLOT_BYTES * SLOTS);
  private readonly data = new Uint8Array(this.sab);
  /** Per slot: 1 while the worker owns it. */
  private readonly state = new Int32Array(new SharedArrayBuffer(4 * SLOTS));
  private slot = 0;
  private filled = 0;
  private finished = false;
  private thread: Worker | undefined;
  /** Set when no worker can run: everything is hashed here. */
  private inline: Hash | undefined;

  update(data: Uint8Array): void {
    if (this.inline) {
      this.inline.update(data);
      return;
    }
    let offset = 0;
    while (offset < data.length) {
      const n = Math.min(data.length - offset, SLOT_BYTES - this.filled);
      this.data.set(data.subarray(offset, offset + n), this.slot * SLOT_BYTES + this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === SLOT_BYTES) {
        this.send();
        // send() falls back to inline hashing when no worker could start.
        const fallback = this.inline as Hash | undefined;
        if (fallback) {
          fallback.update(data.subarray(offset));
          return;
        }
      }
    }
  }

  private send(): void {
    if (!this.thread) {
      this.thread = hashWorker();
      if (!this.thread) {
        this.inline = createHash('sha256').update(this.data.subarray(this.slot * SLOT_BYTES, this.slot * SLOT_BYTES + this.filled));
        this.filled = 0;
        return;
      }
      this.thread.postMessage({ op: 'open', id: this.id, sab: this.sab, state: this.state.buffer });
      abandoned.register(this, this.id, this);
    }
    Atomics.store(this.state, this.slot, 1);
    this.thread.postMessage({ op: 'update', id: this.id, slot: this.slot, length: this.filled });
    this.slot = (this.slot + 1) % SLOTS;
    this.filled = 0;
    // Backpressure: the next slot is free once the worker has hashed what it held.
    waitFor(this.state, this.slot, 1);
  }

  digest(): string {
    if (this.finished) throw new VecSnapError('IO_ERROR', 'A checksum was read twice.');
    this.finished = true;
    if (this.inline) return this.inline.digest('hex');
    if (!this.thread) {
      return createHash('sha256').update(this.data.subarray(this.slot * SLOT_BYTES, this.slot * SLOT_BYTES + this.filled)).digest('hex');
    }
    abandoned.unregister(this);
    if (this.filled > 0) this.send();
    const result = new SharedArrayBuffer(4 + 64);
    const flag = new Int32Array(result, 0, 1);
    this.thread.postMessage({ op: 'digest', id: this.id, result });
    waitFor(flag, 0, 0);
    return Buffer.from(new Uint8Array(result, 4, 64)).toString('latin1');
  }
}

/** A SHA-256 for a stream of bytes of any length: long streams are hashed on a second thread. */
export function createStreamSha256(): Sha256 {
  return new StreamSha256();
}
