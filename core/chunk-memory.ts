import { IN_PLACE_MIN_BYTES, hashableFloat32Array, noQueuedReads } from './io/shared-bytes.js';

interface Returned {
  memory: Float32Array;
  free: () => boolean;
}

/**
 * The vector memory of the chunks one VectorDB.readChunks hands out, taken back from consumers
 * that are done with it (EntryChunk.recycle) and refilled for a later chunk. New memory is what
 * a save paid most for on this machine's VM: every first touch of a page faults, and a freed
 * ArrayBuffer is only given back at the next GC. A 1M × 128 binary save took 1.8–1.9 s with new
 * memory for every chunk and 1.5–1.6 s with memory reused.
 */
export class ChunkMemory {
  private readonly returned: Returned[] = [];

  /**
   * @param limit How much returned memory is held at most. A consumer hands a chunk back while
   *   its write is still queued, so this is about the number of chunks a stream holds at once;
   *   anything over it is left to the garbage collector.
   */
  constructor(private readonly limit = 16) {}

  /**
   * `length` values of returned memory that is free again, or new memory. Content undefined.
   * Big enough, it is memory the hashing thread reads in place (shared-bytes.ts), and free only
   * once that thread has read it too.
   */
  take(length: number): Float32Array {
    for (let i = 0; i < this.returned.length; i++) {
      const r = this.returned[i]!;
      if (r.memory.length === length && r.free() && noQueuedReads(r.memory)) {
        this.returned.splice(i, 1);
        return r.memory;
      }
    }
    return length * 4 >= IN_PLACE_MIN_BYTES ? hashableFloat32Array(length) : new Float32Array(length);
  }

  /** The `recycle` of a chunk whose vectors are `memory`; a second call does nothing. */
  giveBack(memory: Float32Array): (free: () => boolean) => void {
    let given = false;
    return (free) => {
      if (given) return;
      given = true;
      if (this.returned.length >= this.limit) {
        // Full: memory of another length gives way (a kept pool, VectorDB's for deltas, would
        // otherwise hold sizes no later chunk asks for); else the new memory is left to the GC.
        const other = this.returned.findIndex((r) => r.memory.length !== memory.length);
        if (other < 0) return;
        this.returned.splice(other, 1);
      }
      this.returned.push({ memory, free });
    };
  }
}
