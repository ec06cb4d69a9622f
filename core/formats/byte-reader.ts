/**
 * Pulls exact byte counts out of an async stream of arbitrarily sized Buffers, keeping only the
 * bytes not yet consumed (no quadratic concatenation).
 */
export class ByteReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private pieces: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  /** Bytes handed out so far (for error messages). */
  offset = 0;

  constructor(source: AsyncIterable<Buffer>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Loads until `n` bytes are buffered; false when the stream ended first. */
  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n) {
      if (this.ended) return false;
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        return false;
      }
      const piece = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
      if (piece.length === 0) continue;
      this.pieces.push(piece);
      this.buffered += piece.length;
    }
    return true;
  }

  /** Exactly `n` bytes, or null when the stream ends before them. */
  async read(n: number): Promise<Buffer | null> {
    if (n === 0) return Buffer.alloc(0);
    if (!(await this.fill(n))) return null;
    let out: Buffer;
    const first = this.pieces[0]!;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.pieces.shift();
      else this.pieces[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const piece = this.pieces[0]!;
        const take = Math.min(piece.length, n - filled);
        piece.copy(out, filled, 0, take);
        filled += take;
        if (take === piece.length) this.pieces.shift();
        else this.pieces[0] = piece.subarray(take);
      }
    }
    this.buffered -= n;
    this.offset += n;
    return out;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}
