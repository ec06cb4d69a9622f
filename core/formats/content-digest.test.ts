import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EntryChunk, Metadata } from '../types.js';
import { ContentDigest } from './content-digest.js';

/** The v1 definition, written out the plain way: one string per chunk, hashed as UTF-8. */
function referenceDigest(dimension: number, chunks: EntryChunk[]): string {
  const vectors = createHash('sha256');
  const records = createHash('sha256');
  let count = 0;
  for (const { ids, vectors: v, metadata } of chunks) {
    vectors.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    let text = '';
    for (let i = 0; i < ids.length; i++) {
      const m = metadata[i];
      text += JSON.stringify(ids[i]) + '\t' + (m === undefined || m === null ? '' : JSON.stringify(m)) + '\n';
    }
    records.update(text, 'utf8');
    count += ids.length;
  }
  const text = `vecsnap-content-v1\n${dimension}\n${count}\n${vectors.digest('hex')}\n${records.digest('hex')}`;
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function chunkOf(ids: string[], metadata: (Metadata | undefined)[], dimension = 3): EntryChunk {
  const vectors = new Float32Array(ids.length * dimension);
  for (let i = 0; i < vectors.length; i++) vectors[i] = Math.sin(i) * 7;
  return { ids, vectors, metadata };
}

function digestOf(dimension: number, chunks: EntryChunk[], passJson: boolean): string {
  const digest = new ContentDigest(dimension);
  for (const chunk of chunks) {
    const json = chunk.metadata.map((m) => (m === undefined ? undefined : JSON.stringify(m)));
    if (passJson) digest.update(chunk, json);
    else digest.update(chunk);
  }
  return digest.digest();
}

describe('ContentDigest', () => {
  const cases: Array<[string, EntryChunk[]]> = [
    ['plain ids, some without metadata', [chunkOf(['a', 'b', 'c'], [{ x: 1 }, undefined, { t: 'hé' }])]],
    [
      'ids that JSON escapes: quote, backslash, control characters, in a chunk with plain ones',
      [chunkOf(['plain', 'say "hi"', 'back\\slash', 'tab\there', 'nul\u0000', 'bell\u0007'], [{}, { q: '"' }, undefined, { n: null }, { a: [1, 2] }, undefined])],
    ],
    ['ids and metadata outside ASCII: accents, CJK, emoji (surrogate pairs), U+2028', [chunkOf(['café', '日本語', '😀 smile', 'line\u2028sep'], [{ s: '😀' }, { k: '中文' }, { e: 'é\u2029' }, undefined])]],
    ['an empty chunk between two others', [chunkOf(['x'], [{ a: 1 }]), chunkOf([], []), chunkOf(['y'], [undefined])]],
  ];
  for (const [name, chunks] of cases) {
    it(`equals the definition for ${name}, with and without the metadata's JSON passed in`, () => {
      const expected = referenceDigest(3, chunks);
      expect(digestOf(3, chunks, false)).toBe(expected);
      expect(digestOf(3, chunks, true)).toBe(expected);
    });
  }

  it('equals the definition when the record text spans many scratch-buffer flushes', () => {
    // ~40,000 entries of ~60 bytes: 2.4 MB of record text, over two 1 MiB buffers' worth.
    const chunks: EntryChunk[] = [];
    for (let c = 0; c < 4; c++) {
      const ids = Array.from({ length: 10_000 }, (_, i) => `doc-${c}-${i}${i % 997 === 0 ? ' "q"' : ''}`);
      const metadata = ids.map((_, i): Metadata | undefined => (i % 5 === 0 ? undefined : { topic: 'rag', n: i, title: `Note ${i} ✓` }));
      chunks.push(chunkOf(ids, metadata, 2));
    }
    expect(digestOf(2, chunks, false)).toBe(referenceDigest(2, chunks));
  });

  it('equals the definition for an entry bigger than the scratch buffer, between small ones', () => {
    const big = { text: 'ü'.repeat(600_000) }; // 1.2 MB of UTF-8, 3.6 MB at the 3-byte bound
    const chunks = [chunkOf(['before', 'huge "one"', 'huge', 'after'], [{ a: 1 }, big, big, undefined])];
    expect(digestOf(3, chunks, false)).toBe(referenceDigest(3, chunks));
    expect(digestOf(3, chunks, true)).toBe(referenceDigest(3, chunks));
  });

  it('tells apart data that differs in one id, one metadata value or one vector bit', () => {
    const base = chunkOf(['a', 'b'], [{ x: 1 }, undefined]);
    const same = digestOf(3, [base], false);
    expect(digestOf(3, [chunkOf(['a', 'c'], [{ x: 1 }, undefined])], false)).not.toBe(same);
    expect(digestOf(3, [chunkOf(['a', 'b'], [{ x: 2 }, undefined])], false)).not.toBe(same);
    const flipped = chunkOf(['a', 'b'], [{ x: 1 }, undefined]);
    new Uint32Array(flipped.vectors.buffer)[4]! ^= 1;
    expect(digestOf(3, [flipped], false)).not.toBe(same);
    // An id's quote moved into the metadata must not give the same record text.
    expect(digestOf(3, [chunkOf(['a"', 'b'], [{ x: 1 }, undefined])], false)).not.toBe(same);
  });
});
