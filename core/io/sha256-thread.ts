import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { VecSnapError } from '../errors.js';
import { IN_PLACE_MIN_BYTES, queuedReads } from './shared-bytes.js';

/**
 * SHA-256 on a second thread. A save or load of 100k × 384 hashes 150 MB once or twice, about
 * 75 ms each on this thread; on a worker the hashing overlaps encoding and decoding, and the event
 * loop stays free. Data reaches the worker through shared staging slots: one memcpy per byte
 * (~20× cheaper than hashing it) and no allocation per update.
 */
export interface Sha256 {
  update(data: Uint8Array): void;
  /** Hex digest; waits (briefly: at most the slots still queued) for the worker to catch up. */
  digest(): string;
}

const SLOT_BYTES = 4 * 1024 * 1024;
const SLOTS = 3;
/**
 * A legitimate wait is the hashing of at most SLOTS slots (~10 ms). A worker that does not answer
 * for this long is gone without having said so (killed, out of memory); its events cannot reach
 * a thread blocked in Atomics.wait, so the wait itself gives up.
 */
const WAIT_MS = 10_000;

/**
 * The worker. Any exception sets the shared "dead" flag before the thread ends, so a main thread
 * blocked in Atomics.wait learns of it within one 100 ms poll instead of waiting for events it
 * cannot receive while blocked. Unknown ids are ignored: one bad message must not end the thread
 * that every other hash uses.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const control = new Int32Array(workerData.control);
const lanes = [];
const hashes = new Map();
function handle(m) {
  if (m.op === 'lane') {
    lanes[m.index] = { data: new Uint8Array(m.sab), state: new Int32Array(m.state) };
  } else if (m.op === 'open') {
    hashes.set(m.id, { hash: createHash('sha256'), lane: lanes[m.lane] });
  } else if (m.op === 'update') {
    const h = hashes.get(m.id);
    const lane = h ? h.lane : lanes[m.lane];
    if (h) h.hash.update(lane.data.subarray(m.slot * ${SLOT_BYTES}, m.slot * ${SLOT_BYTES} + m.length));
    Atomics.store(lane.state, m.slot, 0);
    Atomics.notify(lane.state, m.slot);
  } else if (m.op === 'shared') {
    const h = hashes.get(m.id);
    if (h) h.hash.update(new Uint8Array(m.sab, m.offset, m.length));
    Atomics.sub(new Int32Array(m.sab, m.readsAt, 1), 0, 1);
  } else if (m.op === 'digest') {
    const h = hashes.get(m.id);
    hashes.delete(m.id);
    const hex = h ? h.hash.digest('hex') : '';
    const out = new Uint8Array(m.result, 4);
    for (let i = 0; i < hex.length; i++) out[i] = hex.charCodeAt(i);
    const flag = new Int32Array(m.result, 0, 1);
    Atomics.store(flag, 0, hex.length === 64 ? 1 : 2);
    Atomics.notify(flag, 0);
  } else if (m.op === 'drop') {
    hashes.delete(m.id);
  }
}
parentPort.on('message', (m) => {
  try {
    handle(m);
  } catch (err) {
    Atomics.store(control, 0, 1);
    throw err;
  }
});
`;

/** Staging memory, shared with the worker once and reused by one hash after another. */
interface Lane {
  index: number;
  data: Uint8Array;
  sab: SharedArrayBuffer;
  /** Per slot: 1 while the worker owns it. */
  state: Int32Array;
  /** The worker this lane was announced to. */
  announced?: Worker;
}

interface HashThread {
  worker: Worker;
  /** [0] = 1 once the worker has failed. */
  control: Int32Array;
}

let thread: HashThread | undefined;
let threadBroken = false;
let nextId = 1;
let inPlaceUpdates = 0;
const lanes: Lane[] = [];
const freeLanes: Lane[] = [];

function hashThread(): HashThread | undefined {
  // VECSNAP_HASH_THREAD=0 hashes inline: for comparing the two in a benchmark, or a host without threads.
  if (thread && Atomics.load(thread.control, 0) === 1) {
    // Failed, and its exit event has not been delivered yet: retire it now.
    threadBroken = true;
    thread = undefined;
  }
  if (threadBroken || process.env.VECSNAP_HASH_THREAD === '0') return undefined;
  if (!thread) {
    const control = new Int32Array(new SharedArrayBuffer(4));
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true, name: 'vecsnap-sha256', workerData: { control: control.buffer } });
    } catch {
      threadBroken = true;
      return undefined;
    }
    // Idle between jobs: it must not keep a CLI process alive.
    worker.unref();
    const retire = (): void => {
      threadBroken = true;
      Atomics.store(control, 0, 1);
      if (thread?.worker === worker) thread = undefined;
    };
    worker.on('error', retire);
    worker.on('exit', retire);
    thread = { worker, control };
  }
  return thread;
}

function takeLane(): Lane {
  const lane = freeLanes.pop();
  if (lane) return lane;
  const sab = new SharedArrayBuffer(SLOT_BYTES * SLOTS);
  const created: Lane = { index: lanes.length, data: new Uint8Array(sab), sab, state: new Int32Array(new SharedArrayBuffer(4 * SLOTS)) };
  lanes.push(created);
  return created;
}

function stopped(): VecSnapError {
  return new VecSnapError('IO_ERROR', 'The hashing thread stopped before it finished; the operation was not completed.');
}

/** Blocks until `view[index]` is no longer `busy`: the worker has done what it was given. */
function waitFor(view: Int32Array, index: number, busy: number, control: Int32Array | undefined): void {
  const deadline = performance.now() + WAIT_MS;
  while (Atomics.load(view, index) === busy) {
    if ((control && Atomics.load(control, 0) === 1) || performance.now() > deadline) throw stopped();
    Atomics.wait(view, index, busy, 100);
  }
}

/**
 * Waits until a lane's slot may be written. Only a live worker can still be reading it (for a
 * hash that was abandoned mid-stream); a failed one never will, so its marks are stale.
 */
function waitForSlot(lane: Lane, slot: number): void {
  const deadline = performance.now() + WAIT_MS;
  while (Atomics.load(lane.state, slot) === 1) {
    const t = lane.announced && thread?.worker === lane.announced ? thread : undefined;
    if (!t || Atomics.load(t.control, 0) === 1) {
      Atomics.store(lane.state, slot, 0);
      return;
    }
    if (performance.now() > deadline) throw stopped();
    Atomics.wait(lane.state, slot, 1, 100);
  }
}

/** Hashes dropped unfinished (an aborted save): the worker forgets them, their lane is reused. */
const abandoned = new FinalizationRegistry<{ id: number; lane: Lane; worker: Worker | undefined }>(({ id, lane, worker }) => {
  worker?.postMessage({ op: 'drop', id });
  freeLanes.push(lane);
});

/**
 * Bytes are staged in a lane's slots. Until the first slot fills, nothing involves the worker: a
 * small stream is hashed inline at digest(), so tiny saves never pay for a thread round trip.
 */
class StreamSha256 implements Sha256 {
  private readonly id = nextId++;
  private lane: Lane | undefined;
  private slot = 0;
  private filled = 0;
  private finished = false;
  private thread: HashThread | undefined;
  /** Set when no worker can run: everything is hashed here. */
  private inline: Hash | undefined;

  update(data: Uint8Array): void {
    if (this.finished) throw new VecSnapError('IO_ERROR', 'A checksum was updated after it was read.');
    if (!this.inline && data.byteLength >= IN_PLACE_MIN_BYTES) {
      const reads = queuedReads(data);
      if (reads && this.hashInPlace(data, reads)) return;
    }
    if (this.inline) {
      this.inline.update(data);
      return;
    }
    const lane = this.stagingLane();
    let offset = 0;
    while (offset < data.length) {
      // A reused lane's slot may still be queued from a hash that was abandoned mid-stream.
      if (this.filled === 0) waitForSlot(lane, this.slot);
      const n = Math.min(data.length - offset, SLOT_BYTES - this.filled);
      lane.data.set(data.subarray(offset, offset + n), this.slot * SLOT_BYTES + this.filled);
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

  /** The staging lane, taken on first use; an abandoned hash gives it back (see `abandoned`). */
  private stagingLane(): Lane {
    if (!this.lane) {
      this.lane = takeLane();
      abandoned.register(this, { id: this.id, lane: this.lane, worker: undefined }, this);
    }
    return this.lane;
  }

  /**
   * Hands the worker `data` where it lies (shared-bytes.ts), after whatever is staged; the
   * memory's count of queued reads keeps it from being written until the worker has hashed it.
   * False when no worker can run: then everything is hashed here (`inline`).
   */
  private hashInPlace(data: Uint8Array, reads: Int32Array): boolean {
    this.stagingLane();
    // Staged bytes come first: the worker takes updates in the order they are posted.
    if (this.filled > 0) this.send();
    const thread = this.inline ? undefined : this.startThread();
    if (!thread) {
      this.inline ??= createHash('sha256');
      this.releaseLane();
      return false;
    }
    if (Atomics.load(thread.control, 0) === 1) throw stopped();
    Atomics.add(reads, 0, 1);
    inPlaceUpdates++;
    thread.worker.postMessage({ op: 'shared', id: this.id, sab: data.buffer, offset: data.byteOffset, length: data.byteLength, readsAt: reads.byteOffset });
    return true;
  }

  /** The worker this hash runs on, started and told about the lane on first use. */
  private startThread(): HashThread | undefined {
    if (this.thread) return this.thread;
    const lane = this.lane!;
    const t = hashThread();
    if (!t) return undefined;
    this.thread = t;
    if (lane.announced !== t.worker) {
      t.worker.postMessage({ op: 'lane', index: lane.index, sab: lane.sab, state: lane.state.buffer });
      lane.announced = t.worker;
    }
    t.worker.postMessage({ op: 'open', id: this.id, lane: lane.index });
    abandoned.unregister(this);
    abandoned.register(this, { id: this.id, lane, worker: t.worker }, this);
    return t;
  }

  private send(): void {
    const lane = this.lane!;
    const thread = this.startThread();
    if (!thread) {
      this.inline = createHash('sha256').update(lane.data.subarray(this.slot * SLOT_BYTES, this.slot * SLOT_BYTES + this.filled));
      this.filled = 0;
      this.releaseLane();
      return;
    }
    if (Atomics.load(thread.control, 0) === 1) throw stopped();
    Atomics.store(lane.state, this.slot, 1);
    thread.worker.postMessage({ op: 'update', id: this.id, lane: lane.index, slot: this.slot, length: this.filled });
    this.slot = (this.slot + 1) % SLOTS;
    this.filled = 0;
  }

  private releaseLane(): void {
    if (!this.lane) return;
    abandoned.unregister(this);
    freeLanes.push(this.lane);
    this.lane = undefined;
  }

  digest(): string {
    if (this.finished) throw new VecSnapError('IO_ERROR', 'A checksum was read twice.');
    this.finished = true;
    if (this.inline) return this.inline.digest('hex');
    const lane = this.lane;
    if (!lane) return createHash('sha256').digest('hex');
    try {
      if (!this.thread) {
        // Never filled a slot: a small stream, hashed right here.
        return createHash('sha256').update(lane.data.subarray(this.slot * SLOT_BYTES, this.slot * SLOT_BYTES + this.filled)).digest('hex');
      }
      if (this.filled > 0) this.send();
      const result = new SharedArrayBuffer(4 + 64);
      const flag = new Int32Array(result, 0, 1);
      this.thread.worker.postMessage({ op: 'digest', id: this.id, result });
      // The digest is answered after every queued update, so the lane is idle once it arrives.
      waitFor(flag, 0, 0, this.thread.control);
      if (Atomics.load(flag, 0) !== 1) throw stopped();
      return Buffer.from(new Uint8Array(result, 4, 64)).toString('latin1');
    } finally {
      this.releaseLane();
    }
  }
}

/** For tests and diagnostics: staging lanes allocated so far, and whether a thread is running. */
export function hashThreadState(): { lanes: number; freeLanes: number; running: boolean; broken: boolean; inPlaceUpdates: number } {
  return { lanes: lanes.length, freeLanes: freeLanes.length, running: thread !== undefined, broken: threadBroken, inPlaceUpdates };
}

/** For tests: sends the worker a message it cannot handle, which ends it as a crash would. */
export function crashHashThreadForTest(): void {
  thread?.worker.postMessage({ op: 'update', id: -1, lane: -1, slot: 0, length: 0 });
}

/** A SHA-256 for a stream of bytes of any length: long streams are hashed on a second thread. */
export function createStreamSha256(): Sha256 {
  return new StreamSha256();
}
