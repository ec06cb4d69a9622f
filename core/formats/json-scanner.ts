import { createHash, type Hash } from 'node:crypto';
import { VecSnapError } from '../errors.js';

/**
 * Byte-level helpers of the JSON format: a pull reader over a stream of Buffers, a value scanner
 * (strings, escapes, nesting: it finds where a value ends; JSON.parse parses it), float32 number
 * text in both directions (exact, and without JSON.parse or number strings on the hot path; the
 * number thread runs the same code, see float32TextSource), and the streaming check of the
 * original module's `checksum`.
 */

const WS = new Uint8Array(256);
for (const c of [0x20, 0x0a, 0x0d, 0x09]) WS[c] = 1;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MIN_FILL = 1 << 20;

export function corruptJson(message: string): VecSnapError {
  return new VecSnapError('CORRUPT_FILE', `The JSON file is damaged: ${message}.`);
}

export function truncatedJson(where: string): VecSnapError {
  return new VecSnapError('CORRUPT_FILE', `The JSON file is truncated: it ends ${where}.`);
}

/** First index ≥ i that is not JSON whitespace (buf.length when none). */
export function skipWs(buf: Buffer, i: number): number {
  const n = buf.length;
  while (i < n && WS[buf[i]!] === 1) i++;
  return i;
}

/** Index just after the closing quote of a string whose content starts at i, or -1 if not buffered yet. */
export function stringEnd(buf: Buffer, i: number): number {
  for (;;) {
    const q = buf.indexOf(QUOTE, i);
    if (q < 0) return -1;
    let k = q - 1;
    while (buf[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    i = q + 1;
  }
}

/**
 * End index of the JSON value starting at buf[i] (a non-whitespace byte), or -1 when the value
 * is not complete in the buffer. Only finds the boundary: JSON.parse validates the bytes.
 */
export function scanValue(buf: Buffer, i: number): number {
  const n = buf.length;
  const first = buf[i];
  if (first === QUOTE) return stringEnd(buf, i + 1);
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    for (; i < n; i++) {
      const c = buf[i]!;
      if (c === QUOTE) {
        const end = stringEnd(buf, i + 1);
        if (end < 0) return -1;
        i = end - 1;
      } else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (--depth === 0) return i + 1;
      }
    }
    return -1;
  }
  for (; i < n; i++) {
    const c = buf[i]!;
    if (c === 0x2c || c === 0x7d || c === 0x5d || WS[c] === 1) return i;
  }
  return -1;
}

/**
 * Pulls an async stream of Buffers of any size into one working buffer. `more()` drops the bytes
 * before `pos` and appends at least as many new bytes as it keeps (and at least 1 MiB), so a
 * value that is rescanned from its start after each refill costs linear time overall.
 */
export class JsonReader {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  /** Absolute offset of buf[0] in the stream (for messages). */
  base = 0;
  ended = false;
  /** Sees every byte after the UTF-8 BOM, in order (legacy checksum). */
  private tap: ((bytes: Buffer) => void) | undefined;
  private readonly iterator: AsyncIterator<Buffer>;

  /**
   * @param release Takes input pieces back once their bytes are copied (BlockReader.release).
   *   With it, `buf` is always a copy; without it, a piece that fills `buf` alone is used as is.
   */
  constructor(
    source: AsyncIterable<Buffer>,
    private readonly release?: (piece: Uint8Array) => void,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  get offset(): number {
    return this.base + this.pos;
  }

  setTap(tap: ((bytes: Buffer) => void) | undefined): void {
    this.tap = tap;
    if (tap && this.pos < this.buf.length) tap(this.buf.subarray(this.pos));
  }

  /**
   * Appends input, keeping buf[pos..]; false when the input has ended. `buf` is replaced, never
   * written into: readers keep views of earlier buffers (json-entry-text.ts) and rely on that.
   */
  async more(): Promise<boolean> {
    if (this.ended) return false;
    const keep = this.buf.length - this.pos;
    const want = Math.max(MIN_FILL, keep);
    const pieces: Buffer[] = [];
    let got = 0;
    while (got < want) {
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      const piece = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
      if (piece.length === 0) continue;
      this.tap?.(piece);
      pieces.push(piece);
      got += piece.length;
    }
    if (got === 0) return false;
    this.base += this.pos;
    this.buf = keep === 0 && pieces.length === 1 && !this.release ? pieces[0]! : Buffer.concat([this.buf.subarray(this.pos), ...pieces]);
    this.pos = 0;
    if (this.release) for (const piece of pieces) this.release(piece);
    return true;
  }

  /** Skips a UTF-8 byte order mark at the very start. */
  async skipBom(): Promise<void> {
    while (this.buf.length < 3 && (await this.more()));
    if (this.buf[0] === 0xef && this.buf[1] === 0xbb && this.buf[2] === 0xbf) this.pos = 3;
  }

  /** Next non-whitespace byte (not consumed), or -1 at the end of input. */
  async peek(): Promise<number> {
    for (;;) {
      this.pos = skipWs(this.buf, this.pos);
      if (this.pos < this.buf.length) return this.buf[this.pos]!;
      if (!(await this.more())) return -1;
    }
  }

  /** Consumes `byte` (after whitespace) or throws CORRUPT_FILE naming `what` was expected. */
  async expect(byte: number, what: string, where: string): Promise<void> {
    const c = await this.peek();
    if (c === byte) {
      this.pos++;
      return;
    }
    if (c === -1) throw truncatedJson(where);
    throw corruptJson(`expected ${what} at byte ${this.offset} ${where}`);
  }

  /** Reads and parses the next complete value with JSON.parse. */
  async value(where: string): Promise<unknown> {
    if ((await this.peek()) === -1) throw truncatedJson(where);
    for (;;) {
      const end = scanValue(this.buf, this.pos);
      if (end >= 0) {
        const parsed = this.parse(this.pos, end);
        this.pos = end;
        return parsed;
      }
      if (!(await this.more())) throw truncatedJson(where);
    }
  }

  parse(start: number, end: number): unknown {
    try {
      return JSON.parse(this.buf.toString('utf8', start, end));
    } catch (err) {
      throw new VecSnapError(
        'CORRUPT_FILE',
        `The JSON file is damaged: invalid JSON in the value at byte ${this.base + start} (${(err as Error).message}).`,
        { cause: err },
      );
    }
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

// ---- float32 <-> text ----------------------------------------------------------------------

const POW10 = new Float64Array(23);
for (let i = 0; i <= 22; i++) POW10[i] = Number(`1e${i}`);
/** floor(log10(2^(e - 127))) for each float32 exponent field e. */
const E10 = new Int32Array(256);
for (let e = 0; e < 256; e++) E10[e] = Math.floor((e - 127) * Math.LOG10E * Math.LN2);
/** NEXT10[e] ≈ 10^(E10[e] + 1): a value of that exponent field at or above it has one more digit. */
const NEXT10 = new Float64Array(256);
for (let e = 0; e < 256; e++) NEXT10[e] = Number(`1e${E10[e]! + 1}`);
const DIGITS2 = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGITS2[2 * i] = 0x30 + Math.floor(i / 10);
  DIGITS2[2 * i + 1] = 0x30 + (i % 10);
}
/** Doubles from here on (halfway between the largest float32 and 2^128) round to Infinity. */
const FLOAT32_OVERFLOW = 3.4028235677973366e38;
const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

/** d × 10^k, correctly rounded: both operands are exact doubles (d < 2^53, |k| ≤ 22). */
function exact(d: number, k: number): number {
  return k < 0 ? d / POW10[-k]! : d * POW10[k]!;
}

/** Writes exactly p decimal digits of d (an integer < 2^31, zero-padded) at o. */
function writeDigits(out: Buffer, o: number, d: number, p: number): number {
  let x = d | 0; // int32 arithmetic: V8 turns the divisions by constants into multiplications
  let q = o + p;
  while (q - o >= 2) {
    const t = (x / 100) | 0;
    const r = (x - t * 100) << 1;
    out[--q] = DIGITS2[r + 1]!;
    out[--q] = DIGITS2[r]!;
    x = t;
  }
  if (q > o) out[--q] = 0x30 + x;
  return o + p;
}

function writeAscii(out: Buffer, o: number, text: string): number {
  return o + out.write(text, o, 'latin1');
}

/** 1 / 10^t (inexact: only used for a first guess that is then checked exactly). */
const INV10 = new Float64Array(10);
for (let t = 0; t < 10; t++) INV10[t] = 1 / POW10[t]!;
/** Half the spacing of float32 values with exponent field e: 2^(e − 151). */
const HALF_ULP = new Float64Array(256);
for (let e = 0; e < 256; e++) HALF_ULP[e] = 2 ** (e - 151);

/** Result of shortestByTrial: the value is written as TRIAL[0] × 10^TRIAL[1]. */
const TRIAL = new Float64Array(2);

/**
 * Shortest of ≤ 8 (else 9) digits found by trial, each candidate d·10^k checked exactly: d and
 * 10^|k| (|k| ≤ 22) are exact doubles, so d·10^k or d/10^|k| is the correctly rounded double of
 * the decimal — what Number(text) returns — and Math.fround of it must give a back.
 */
function shortestByTrial(a: number, e10: number): boolean {
  let k = e10 - 7;
  let d = Math.round(k < 0 ? a * POW10[-k]! : a / POW10[k]!);
  if (Math.fround(exact(d, k)) === a) {
    for (;;) {
      const shorter = Math.round(d / 10);
      if (Math.fround(exact(shorter, k + 1)) !== a) break;
      d = shorter;
      k++;
      if (d < 10) break;
    }
  } else {
    k--;
    d = Math.round(k < 0 ? a * POW10[-k]! : a / POW10[k]!);
    if (d >= 1e9 || Math.fround(exact(d, k)) !== a) return false;
  }
  TRIAL[0] = d;
  TRIAL[1] = k;
  return true;
}

/**
 * Writes values[from … to) as comma-separated JSON numbers such that Math.fround(Number(text))
 * is bit-identical to each value, in the fewest digits in the common range; -0 is written "-0".
 * At most 25 bytes per value are written. Returns the new offset, or -1 (having written part of
 * the text) when a value is NaN or infinite. (Checked against all 2^32 float32 bit patterns
 * once; json.test.ts checks every exponent with random mantissas.) The common case is inline in
 * the loop: V8 does not inline a function this size into its caller, and the call would double
 * the cost per number.
 */
export function writeFloat32Array(out: Buffer, o: number, values: Float32Array, from: number, to: number): number {
  for (let j = from; j < to; j++) {
    if (j > from) out[o++] = 0x2c;
    const v = values[j]!;
    F32[0] = v;
    const bits = I32[0]!; // int32, not uint32: V8 keeps it in a register
    const exp = (bits >>> 23) & 0xff;
    if (exp === 0xff) return -1;
    const a = v < 0 ? -v : v;
    let e10 = E10[exp]!;
    if (a >= NEXT10[exp]!) e10++;
    const q = 8 - e10;
    // Zero, subnormals, powers of two and values outside about [1e-4, 1e9) go elsewhere.
    if (q < 0 || q > 12 || (bits & 0x7fffff) === 0) {
      o = writeFloat32Rare(out, o, v, bits, e10);
      continue;
    }
    // Shortest digits by the rounding interval. Everything here is exact in doubles:
    // S = a·10^q = m·5^q·2^(e−150+q) with m < 2^24 and 5^q ≤ 5^12 (so < 2^53 significant bits),
    // likewise the half spacing H = 2^(e−151)·10^q and every c·10^t − S below. A decimal
    // strictly inside (S − H, S + H) rounds back to a even through the reader's double rounding
    // (decimal → double → float32): the interval's ends are doubles whose last bit,
    // 2^(e−151+q), is more than half a double ulp of S, so Number(text) cannot land on an end.
    // round(S) (9 digits) is always inside since H ≥ S·2^-25 > 2.9; coarser steps 10^t are
    // taken while the nearest multiple stays inside.
    const scale = POW10[q]!;
    const S = a * scale;
    const H = HALF_ULP[exp]! * scale;
    let d = Math.round(S);
    let t = 1;
    for (; t <= 9; t++) {
      const c = Math.round(S * INV10[t]!);
      const diff = c * POW10[t]! - S;
      if (diff >= H || diff <= -H) break;
      d = c;
    }
    const k = t - 1 - q;
    let p = d >= 1e6 ? 7 : 1; // digits of d (usually 7 to 9)
    while (p < 10 && d >= POW10[p]!) p++;
    e10 = k + p - 1; // the decimal exponent of the first digit
    if (e10 >= 0) {
      o = writeDecimal(out, o, d, k, bits < 0);
      continue;
    }
    if (bits < 0) out[o++] = 0x2d;
    out[o++] = 0x30; // 0.000ddd
    out[o++] = 0x2e;
    for (let z = -1; z > e10; z--) out[o++] = 0x30;
    o = writeDigits(out, o, d, p);
  }
  return o;
}

function writeFloat32Rare(out: Buffer, o: number, v: number, bits: number, e10: number): number {
  const exp = (bits >>> 23) & 0xff;
  if (exp === 0 || exp === 0xff) return writeAscii(out, o, v === 0 && 1 / v < 0 ? '-0' : String(v));
  if (e10 >= -14 && e10 <= 20 && shortestByTrial(v < 0 ? -v : v, e10)) {
    return writeDecimal(out, o, TRIAL[0]!, TRIAL[1]!, v < 0);
  }
  return writeAscii(out, o, String(v)); // exact for every double
}

/** Writes (−)d × 10^k, d an integer < 2^31, as JSON number text without leading zeros. */
function writeDecimal(out: Buffer, o: number, d: number, k: number, negative: boolean): number {
  let p = d >= 1e6 ? 7 : 1; // digits of d (usually 7 to 9)
  while (p < 10 && d >= POW10[p]!) p++;
  const e10 = k + p - 1; // the decimal exponent of the first digit
  if (negative) out[o++] = 0x2d;
  if (k < 0 && e10 < 0 && e10 >= -7) {
    out[o++] = 0x30; // 0.000ddd
    out[o++] = 0x2e;
    for (let z = -1; z > e10; z--) out[o++] = 0x30;
    return writeDigits(out, o, d, p);
  }
  if (k >= 0) {
    o = writeDigits(out, o, d, p);
    for (let z = 0; z < k; z++) out[o++] = 0x30;
    return o;
  }
  if (e10 >= 0) {
    const div = POW10[-k]!;
    const whole = Math.floor(d / div);
    o = writeDigits(out, o, whole, e10 + 1);
    out[o++] = 0x2e;
    return writeDigits(out, o, d - whole * div, -k);
  }
  // 1e-14 ≤ |v| < 1e-7: d1.d2d3…e-N
  const lead = Math.floor(d / POW10[p - 1]!);
  out[o++] = 0x30 + lead;
  if (p > 1) {
    out[o++] = 0x2e;
    o = writeDigits(out, o, d - lead * POW10[p - 1]!, p - 1);
  }
  out[o++] = 0x65;
  out[o++] = 0x2d;
  return writeAscii(out, o, String(-e10));
}

/**
 * Digit bytes, 4 at a time ("SWAR"): for a little-endian word x of 4 input bytes (the first byte
 * lowest), nonDigits(x) has a non-zero high nibble in each byte that is not an ASCII digit and
 * zero in each digit byte that precedes the first non-digit. (A carry or borrow only moves
 * towards later bytes, so it cannot disturb the digits before the first non-digit.)
 */
function nonDigits(x: number): number {
  return ((x & 0xf0f0f0f0) ^ 0x30303030) | (((x + 0x06060606) & 0xf0f0f0f0) ^ 0x30303030);
}

/** Number of digit bytes before the first non-digit, for nonDigits(x) ≠ 0. */
function leadingDigits(nd: number): number {
  return (31 - Math.clz32(nd & -nd)) >>> 3;
}

/** Value of the 4 digit bytes of x. */
function digits4(x: number): number {
  let v = x - 0x30303030;
  v = (Math.imul(v, 10) + (v >>> 8)) & 0x00ff00ff; // two 2-digit values in the 16-bit halves
  return Math.imul(v & 0xffff, 100) + (v >>> 16);
}

const KEEP = new Int32Array([0, 0xff, 0xffff, 0xffffff]);
const ALIGN = new Int32Array([0, 24, 16, 8]);

/** Value of the first k (0 … 3) digit bytes of x. */
function digitsK(x: number, k: number): number {
  let v = ((x - 0x30303030) & KEEP[k]!) << ALIGN[k]!; // as 4 digits with 4 − k leading zeros
  v = (Math.imul(v, 10) + (v >>> 8)) & 0x00ff00ff;
  return Math.imul(v & 0xffff, 100) + (v >>> 16);
}

/** A DataView over the last buffer parseFloat32Array saw (4-byte unaligned little-endian reads). */
let viewOf: Uint8Array | undefined;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/** Lets go of the last buffer parseFloat32Array saw (at the end of a decode). */
export function forgetParsedBuffer(): void {
  viewOf = undefined;
  view = new DataView(new ArrayBuffer(0));
}

/**
 * Parses the JSON array of numbers at buf[i] (which must be "[") into out[at … at + dim), each
 * number converted like Math.fround(Number(text)). Numbers of ≤ 15 digits with a decimal
 * exponent within ±22 are computed exactly as one correctly rounded double operation (Clinger's
 * fast path: the digits form an integer m < 10^15 < 2^53, exact in a double, and 10^|k| ≤ 10^22
 * is exact too); others go through longNumber. Fraction digits are read 4 bytes at a time.
 * Returns the index after "]", or -1 for anything else — whitespace, other syntax, a wrong
 * count, a non-finite float32, or the end of the buffer — and the caller falls back to
 * JSON.parse, which reports the error precisely.
 */
export function parseFloat32Array(buf: Buffer, i: number, out: Float32Array, at: number, dim: number): number {
  // Never read past the buffer (V8 slows down reads that may be out of bounds): every byte loop
  // below stops at a byte that is not part of a number, at the latest at this "]"; word reads
  // happen only where 12 bytes remain, and only the digits before the first non-digit are used.
  if (buf[i] !== 0x5b || buf.indexOf(0x5d, i) < 0) return -1;
  if (buf !== viewOf) {
    view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    viewOf = buf;
  }
  const dv = view;
  const wordsUpTo = buf.length - 12;
  i++;
  if (buf[i] === 0x5d) return dim === 0 ? i + 1 : -1;
  let n = 0;
  for (;;) {
    const start = i;
    const neg = buf[i] === 0x2d ? 1 : 0; // no branch: the sign is random in real data
    i += neg;
    let c = buf[i];
    let m = 0;
    let digits = 0;
    let scale = 0;
    if (c === 0x30) {
      c = buf[++i];
      digits = 1;
    } else if (c! >= 0x31 && c! <= 0x39) {
      do {
        m = m * 10 + (c! - 0x30);
        digits++;
        c = buf[++i];
      } while (c! >= 0x30 && c! <= 0x39);
    } else return -1;
    if (c === 0x2e) {
      const f = ++i;
      if (i <= wordsUpTo) {
        const w0 = dv.getUint32(i, true);
        const w1 = dv.getUint32(i + 4, true);
        const n0 = nonDigits(w0);
        const n1 = nonDigits(w1);
        if ((n0 | n1) === 0) {
          const w2 = dv.getUint32(i + 8, true);
          const n2 = nonDigits(w2);
          if (n2 !== 0) {
            // 8 to 11 digits: the common case of float32 text
            const k = leadingDigits(n2);
            m = (m * 1e8 + (digits4(w0) * 10000 + digits4(w1))) * POW10[k]! + digitsK(w2, k);
            i += 8 + k;
          } else {
            // m only matters when exact, i.e. for ≤ 15 digits in all (checked below)
            m = m * 1e12 + (digits4(w0) * 1e8 + digits4(w1) * 10000 + digits4(w2));
            i += 12;
            c = buf[i];
            while (c! >= 0x30 && c! <= 0x39) {
              m = m * 10 + (c! - 0x30);
              c = buf[++i];
            }
          }
        } else if (n0 !== 0) {
          const k = leadingDigits(n0);
          m = m * POW10[k]! + digitsK(w0, k);
          i += k;
        } else {
          const k = leadingDigits(n1);
          m = (m * 10000 + digits4(w0)) * POW10[k]! + digitsK(w1, k);
          i += 4 + k;
        }
      } else {
        c = buf[i];
        while (c! >= 0x30 && c! <= 0x39) {
          m = m * 10 + (c! - 0x30);
          c = buf[++i];
        }
      }
      const k = i - f;
      if (k === 0) return -1;
      digits += k;
      scale -= k;
      c = buf[i];
    }
    if (c === 0x65 || c === 0x45) {
      c = buf[++i];
      let sign = 1;
      if (c === 0x2d) {
        sign = -1;
        c = buf[++i];
      } else if (c === 0x2b) c = buf[++i];
      if (c! < 0x30 || c! > 0x39) return -1;
      let e = 0;
      do {
        e = e * 10 + (c! - 0x30);
        c = buf[++i];
      } while (c! >= 0x30 && c! <= 0x39 && e < 100000);
      scale += sign * e;
    }
    if (n === dim) return -1;
    let value: number;
    if (digits <= 15 && scale >= -22 && scale <= 22) {
      value = scale < 0 ? m / POW10[-scale]! : m * POW10[scale]!;
      if (neg === 1) value = -value;
    } else value = longNumber(buf, start, i);
    if (Math.abs(value) >= FLOAT32_OVERFLOW) return -1; // rounds to ±Infinity
    out[at + n++] = value;
    if (c === 0x2c) i++;
    else if (c === 0x5d) return n === dim ? i + 1 : -1;
    else return -1;
  }
}

/**
 * The source text of this module's number code (writeFloat32Array, parseFloat32Array and their
 * helpers and tables), for the number thread (json-number-thread.ts): the very same functions,
 * so both threads write and read the same text.
 * Tables go as literals (String of a double round-trips exactly), scratch space is made anew.
 */
export function float32TextSource(): string {
  const table = (name: string, values: Float64Array | Int32Array | Uint8Array): string =>
    `const ${name} = new ${values.constructor.name}([${Array.from(values).join(', ')}]);`;
  return [
    "'use strict';",
    table('POW10', POW10),
    table('E10', E10),
    table('NEXT10', NEXT10),
    table('DIGITS2', DIGITS2),
    table('INV10', INV10),
    table('HALF_ULP', HALF_ULP),
    table('KEEP', KEEP),
    table('ALIGN', ALIGN),
    `const FLOAT32_OVERFLOW = ${String(FLOAT32_OVERFLOW)};`,
    'const F32 = new Float32Array(1);',
    'const I32 = new Int32Array(F32.buffer);',
    'const TRIAL = new Float64Array(2);',
    'let viewOf;',
    'let view;',
    ...[exact, writeDigits, writeAscii, shortestByTrial, writeFloat32Array, writeFloat32Rare, writeDecimal]
      .concat([nonDigits, leadingDigits, digits4, digitsK, longNumber, parseFloat32Array])
      .map(String),
  ].join('\n');
}

/**
 * The float32 of a valid JSON number of more than 15 digits (doubles as JavaScript prints them
 * have up to 17). With m its first 15 significant digits and exponent s, the number lies in
 * [m·10^s, (m+1)·10^s); rounding to double and then to float32 is monotonic, so when both ends
 * (each exact by Clinger's fast path) round to the same float32, so does the number.
 * Otherwise — about once in 10^7 — Number() of the text decides.
 */
function longNumber(buf: Buffer, start: number, end: number): number {
  let i = start;
  const negative = buf[i] === 0x2d;
  if (negative) i++;
  let m = 0;
  let sig = 0;
  let scale = 0;
  let dropped = false;
  let fraction = false;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === 0x2e) fraction = true;
    else if (c === 0x65 || c === 0x45) break;
    else if (sig < 15) {
      m = m * 10 + (c - 0x30);
      if (m > 0) sig++;
      if (fraction) scale--;
    } else {
      if (!fraction) scale++;
      if (c !== 0x30) dropped = true;
    }
  }
  if (i < end) scale += Number(buf.toString('latin1', i + 1, end));
  if (scale >= -22 && scale <= 22) {
    const low = Math.fround(exact(m, scale));
    if (!dropped) return negative ? -low : low;
    if (Math.fround(exact(m + 1, scale)) === low) return negative ? -low : low;
  }
  return Number(buf.toString('latin1', start, end));
}

// ---- the original module's checksum ----------------------------------------------------------

const CHECKSUM_KEY = Buffer.from('"checksum"', 'latin1');

/**
 * The original module stored `checksum` = SHA-256 of JSON.stringify(state without checksum). This
 * streams the file's bytes through a minifier (whitespace outside strings dropped, so a
 * `JSON.stringify(state, null, 2)` file reads as its compact form) that also cuts the top-level
 * `"checksum"` member out (with its comma), and hashes the rest. For files written by
 * JSON.stringify the result equals the original's checksum.
 */
/** Bytes the checksum minifier must look at; everything else is copied as is. */
const SPECIAL = new Uint8Array(256);
for (const c of [0x20, 0x0a, 0x0d, 0x09, QUOTE, BACKSLASH, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c]) SPECIAL[c] = 1;

export class LegacyChecksum {
  private readonly hash: Hash = createHash('sha256');
  private readonly out = Buffer.allocUnsafe(1 << 16);
  private o = 0;
  private depth = 0;
  private inString = false;
  private escape = false;
  /** Where in `out` the current top-level member (its comma included) starts while its key is read. */
  private keyMark = -1;
  private keyFirst = false;
  private skipping = false;
  private skipFirst = false;
  /** True once whitespace outside strings was seen (the file was not written compactly). */
  sawWhitespace = false;
  /** True once the top-level "checksum" member was cut out; `checksumLast` when it ended the object. */
  found = false;
  checksumLast = false;
  closed = false;

  update(bytes: Buffer): void {
    const out = this.out;
    const flushAt = out.length - 32;
    const n = bytes.length;
    // The state lives in locals while the loop runs (several times faster in V8).
    let { o, depth, inString, escape, keyMark, keyFirst, skipping, closed } = this;
    let i = 0;
    while (i < n && !closed) {
      if (o >= flushAt && keyMark < 0) {
        this.hash.update(out.subarray(0, o));
        o = 0;
      }
      if (!inString && !skipping && keyMark < 0) {
        const limit = Math.min(n, i + flushAt - o);
        while (i < limit && SPECIAL[bytes[i]!] === 0) out[o++] = bytes[i++]!;
        if (i === limit) continue;
      }
      const c = bytes[i++]!;
      if (inString) {
        if (!skipping) out[o++] = c;
        if (escape) escape = false;
        else if (c === BACKSLASH) escape = true;
        else if (c === QUOTE) {
          inString = false;
          if (keyMark >= 0) {
            // A top-level key ends: is it "checksum"? Then cut it (and its comma) out.
            if (depth === 1 && out.subarray(keyFirst ? keyMark : keyMark + 1, o).equals(CHECKSUM_KEY)) {
              o = keyMark;
              this.found = true;
              skipping = true;
              this.skipFirst = keyFirst;
            }
            keyMark = -1;
          }
          continue;
        }
        if (keyMark >= 0 && o - keyMark > 12) keyMark = -1; // longer than "checksum"
        continue;
      }
      if (WS[c] === 1) {
        this.sawWhitespace = true;
        continue;
      }
      if (skipping) {
        if (c === QUOTE) inString = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if ((c === 0x7d || c === 0x5d) && depth > 1) depth--;
        else if (c === 0x7d) {
          skipping = false;
          this.checksumLast = true;
        } else if (c === 0x2c && depth === 1) {
          skipping = false;
          if (this.skipFirst) {
            keyMark = o; // the member after a leading "checksum" becomes the first
            keyFirst = true;
            continue;
          }
        }
        if (skipping) continue;
      }
      if (keyMark >= 0 && c !== QUOTE) keyMark = -1; // not a key: invalid JSON, the parser will say
      out[o++] = c;
      if (c === QUOTE) inString = true;
      else if (c === 0x7b || c === 0x5b) {
        if (++depth === 1) {
          keyMark = o;
          keyFirst = true;
        }
      } else if (c === 0x7d || c === 0x5d) {
        if (--depth === 0) closed = true;
      } else if (c === 0x2c && depth === 1) {
        keyMark = o - 1;
        keyFirst = false;
      }
    }
    Object.assign(this, { o, depth, inString, escape, keyMark, keyFirst, skipping, closed });
  }

  digest(): string {
    this.hash.update(this.out.subarray(0, this.o));
    this.o = 0;
    return this.hash.digest('hex');
  }
}
