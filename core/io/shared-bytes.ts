/**
 * Memory the hashing thread reads where it lies (sha256-thread.ts), instead of receiving a copy
 * in its staging slots: a SharedArrayBuffer holding the values and, after them, a count of the
 * hash updates still queued on it. Memory is written again only once that count is 0.
 */
const queued = new WeakMap<SharedArrayBuffer, Int32Array>();

/**
 * Below this a copy into the staging slots costs less than the message that would replace it
 * (a copy of 64 KiB takes ~5 µs; posting a message about as long).
 */
export const IN_PLACE_MIN_BYTES = 64 * 1024;

/** A Float32Array of `length` zeros the hashing thread can read in place. */
export function hashableFloat32Array(length: number): Float32Array {
  const bytes = length * 4;
  const sab = new SharedArrayBuffer(bytes + 4);
  queued.set(sab, new Int32Array(sab, bytes, 1));
  return new Float32Array(sab, 0, length);
}

/** The queued-updates count of the memory `view` lies in, if hashableFloat32Array made it. */
export function queuedReads(view: ArrayBufferView): Int32Array | undefined {
  const { buffer } = view;
  return buffer instanceof SharedArrayBuffer ? queued.get(buffer) : undefined;
}

/** True when no hash update is queued on the memory `view` lies in, so it may be written. */
export function noQueuedReads(view: ArrayBufferView): boolean {
  const reads = queuedReads(view);
  return reads === undefined || Atomics.load(reads, 0) === 0;
}
