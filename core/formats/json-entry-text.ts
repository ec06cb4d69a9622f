import { throwIfAborted } from '../errors.js';
import { JsonReader, scanValue, skipWs } from './json-scanner.js';
import { entryLayout, headerFrom, layoutId, newEntryLayout, readJsonHead } from './json.js';

/**
 * The entries of a VecSnap JSON file as text, not parsed: what a compare needs to tell equal
 * entries apart (equal text is equal content) without turning 100,000 × 384 numbers into floats.
 */
export interface EntryTexts {
  /** The text the entries lie in (the reader's buffer, not a copy; never written again). */
  buf: Buffer;
  ids: string[];
  /** Four offsets into buf per entry: its vector's "[" and end, its metadata's start and end (−1, −1: none). */
  spans: Int32Array;
}

/**
 * An entry, or the text around the entries, is not laid out as VecSnap writes it (or the file
 * ends early). The caller reads the file the ordinary way, which parses any valid layout and
 * reports damage precisely.
 */
export class NotWriterLayout extends Error {
  constructor(where: string) {
    super(`The JSON text is not laid out as VecSnap writes it (${where}).`);
  }
}

export interface JsonEntryTexts {
  dimension: number;
  /** Entries in file order; throws NotWriterLayout. Reads the input to its end. */
  chunks: AsyncGenerator<EntryTexts>;
}

/**
 * Reads a VecSnap JSON file's header and then its entries as text. Null when the input is not
 * VecSnap JSON or its header cannot be read; the ordinary reader then says what is wrong.
 * Nothing here checks the content: callers check the file's SHA-256 against the one recorded
 * when it was written. `release` takes input pieces back once read (JsonReader).
 */
export async function readJsonEntryTexts(
  input: AsyncIterable<Buffer>,
  signal?: AbortSignal,
  release?: (piece: Uint8Array) => void,
): Promise<JsonEntryTexts | null> {
  const r = new JsonReader(input, release);
  const members = new Map<string, unknown>();
  let dimension: number;
  try {
    await r.skipBom();
    if (!(await readJsonHead(r, members))) return null;
    dimension = headerFrom(members, undefined).dimension;
  } catch {
    return null;
  }

  async function* chunks(): AsyncGenerator<EntryTexts> {
    const layout = newEntryLayout();
    let expectValue = true; // after "[" or ","
    let afterComma = false;
    let ended = false;
    while (!ended) {
      throwIfAborted(signal, 'Comparing');
      const buf = r.buf;
      const ids: string[] = [];
      let spans = new Int32Array(4 * 256);
      let i = r.pos;
      for (;;) {
        i = skipWs(buf, i);
        if (i >= buf.length) break;
        const c = buf[i];
        if (!expectValue || c === 0x5d) {
          if (c === 0x5d && !afterComma) ended = true;
          else if (c === 0x2c && !expectValue) expectValue = afterComma = true;
          else throw new NotWriterLayout(`"${String.fromCharCode(c!)}" between entries`);
          i++;
          if (ended) break;
          continue;
        }
        const end = entryLayout(buf, i, layout);
        if (end < 0) {
          // A complete value in another layout; otherwise the entry continues in the next input.
          if (scanValue(buf, i) >= 0) throw new NotWriterLayout(`entry ${ids.length}`);
          break;
        }
        const id = layoutId(buf, layout);
        if (id === undefined) throw new NotWriterLayout('an id');
        const k = 4 * ids.length;
        if (k + 4 > spans.length) {
          const bigger = new Int32Array(2 * spans.length);
          bigger.set(spans);
          spans = bigger;
        }
        spans[k] = layout.vectorAt;
        spans[k + 1] = layout.vectorEnd;
        spans[k + 2] = layout.metaAt;
        spans[k + 3] = layout.metaEnd;
        ids.push(id);
        i = end;
        expectValue = afterComma = false;
      }
      r.pos = i;
      if (ids.length > 0) yield { buf, ids, spans };
      if (!ended && !(await r.more())) throw new NotWriterLayout('the file ends inside "vectors"');
    }
    // The trailer (count, content checksum) is covered by the file's SHA-256; read it through.
    r.pos = r.buf.length;
    while (await r.more()) r.pos = r.buf.length;
  }

  return { dimension, chunks: chunks() };
}
