import { VecSnapError } from '../errors.js';

const WS = new Uint8Array(256);
for (const c of [0x20, 0x0a, 0x0d, 0x09]) WS[c] = 1;

/** Where a value scan stands, so that a value split across input pieces resumes, not restarts. */
interface ValueScan {
  /** Scanned bytes, relative to the value's start. */
  done: number;
  depth: number;
  inString: boolean;
  escape: boolean;
  first: number;
}

export function corruptJson(message: string): VecSnapError {
  return new VecSnapError('CORRUPT_FILE', `The JSON file is damaged: ${message}.`);
}

/**
 * A pull scanner over a stream of Buffers for one top-level JSON object: it finds value
 * boundaries byte by byte (strings, escapes, nesting) and leaves parsing to native JSON.parse.
 * Bytes before `keep` are dropped on refill; `onDrop` sees every byte before it goes (hashing).
 */
export class JsonScanner {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  /** Absolute offset of buf[0] in the stream. */
  base = 0;
  ended = false;
  /** True once whitespace was seen outside strings (the file is not compact JSON.stringify). */
  sawWhitespace = false;
  /** Absolute offset that refills must keep (a batch of entries not parsed yet). */
  pinAbs = Infinity;
  private readonly iterator: AsyncIterator<Buffer>;

  constructor(
    source: AsyncIterable<Buffer>,
    private readonly onDrop?: (bytes: Buffer, absStart: number) => void,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  get absolute(): number {
    return this.base + this.pos;
  }

  /** Appends the next piece, dropping bytes before `keep`; false at the end of input. */
  async more(keep = this.pos): Promise<boolean> {
    if (this.ended) return false;
    let next = await this.iterator.next();
    while (!next.done && next.value.length === 0) next = await this.iterator.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const piece = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
    keep = Math.min(keep, Math.max(0, this.pinAbs - this.base));
    if (keep > 0) this.onDrop?.(this.buf.subarray(0, keep), this.base);
    const rest = this.buf.subarray(keep);
    this.buf = rest.length === 0 ? piece : Buffer.concat([rest, piece]);
    this.base += keep;
    this.pos -= keep;
    return true;
  }

  /** Hands every byte still buffered to onDrop (at the end of input). */
  flushAll(): void {
    if (this.buf.length > 0) this.onDrop?.(this.buf, this.base);
    this.base += this.buf.length;
    this.pos -= this.buf.length;
    this.buf = Buffer.alloc(0);
  }

  /** Next non-whitespace byte (not consumed), or -1 at the end of input. */
  async peek(): Promise<number> {
    for (;;) {
      while (this.pos < this.buf.length) {
        const c = this.buf[this.pos]!;
        if (!WS[c]) return c;
        this.sawWhitespace = true;
        this.pos++;
      }
      if (!(await this.more())) return -1;
    }
  }

  async expect(byte: number, what: string): Promise<void> {
    const c = await this.peek();
    if (c !== byte) {
      if (c === -1) throw corruptJson(`it is truncated (expected ${what})`);
      throw corruptJson(`expected ${what} at byte ${this.absolute}, found "${String.fromCharCode(c)}"`);
    }
    this.pos++;
  }

  /** Scans one complete value starting at the next non-whitespace byte; returns [start, end) in buf. */
  async value(): Promise<[number, number]> {
    const c = await this.peek();
    if (c === -1) throw corruptJson('it is truncated (expected a value)');
    let start = this.pos;
    const scan: ValueScan = { done: 0, depth: 0, inString: false, escape: false, first: c };
    for (;;) {
      const end = scanValue(this.buf, start, scan);
      if (end >= 0) {
        this.pos = end;
        return [start, end];
      }
      const baseBefore = this.base;
      if (!(await this.more(start))) {
        // A bare literal (number, true, …) may end exactly at the end of input.
        if (scan.depth === 0 && !scan.inString && scan.first !== 0x22 && scan.first !== 0x7b && scan.first !== 0x5b) {
          this.pos = this.buf.length;
          return [start, this.buf.length];
        }
        throw corruptJson('it is truncated');
      }
      start -= this.base - baseBefore; // the buffer was rebased
    }
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

/** Continues scanning the value at buf[start]; returns its end index or -1 when more bytes are needed. */
function scanValue(buf: Buffer, start: number, s: ValueScan): number {
  let i = start + s.done;
  const n = buf.length;
  const container = s.first === 0x7b || s.first === 0x5b;
  const string = s.first === 0x22;
  for (; i < n; i++) {
    const c = buf[i]!;
    if (s.inString) {
      if (s.escape) s.escape = false;
      else if (c === 0x5c) s.escape = true;
      else if (c === 0x22) {
        s.inString = false;
        if (string) return i + 1;
      }
      continue;
    }
    if (c === 0x22) {
      s.inString = true;
    } else if (container) {
      if (c === 0x7b || c === 0x5b) s.depth++;
      else if (c === 0x7d || c === 0x5d) {
        s.depth--;
        if (s.depth === 0) return i + 1;
      }
    } else if (c === 0x2c || c === 0x7d || c === 0x5d || WS[c]) {
      return i; // end of a number or literal
    }
  }
  s.done = i - start;
  return -1;
}
