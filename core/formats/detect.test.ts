import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rng, tempDir } from '../test-helpers/fixtures.js';
import type { Compression, DatasetHeader, EntryChunk, Format } from '../types.js';
import { binaryCodec } from './binary.js';
import type { EncodeSummary, StreamCodec } from './codec.js';
import { detectFile, detectFromHead, extensionFor, formatFromMagic } from './detect.js';
import { jsonCodec } from './json.js';
import { writeSqliteFile } from './sqlite.js';

const HEAD = 64 * 1024;

function makeChunks(count: number, dimension: number, seed: number): EntryChunk[] {
  const rand = rng(seed);
  const chunks: EntryChunk[] = [];
  for (let s = 0; s < count; s += 500) {
    const n = Math.min(500, count - s);
    const vectors = new Float32Array(n * dimension);
    for (let j = 0; j < vectors.length; j++) vectors[j] = rand() * 2 - 1;
    const ids = Array.from({ length: n }, (_, i) => (s + i === 0 ? '東京-🚀 "q"\\\n' : `id-${s + i}`));
    chunks.push({ ids, vectors, metadata: ids.map((_, i) => (i % 2 ? { n: s + i, t: 'ü' } : undefined)) });
  }
  return chunks;
}

const header = (dimension: number, count: number): DatasetHeader => ({ dimension, metric: 'dot', count, createdAt: 1_700_000_000_000 });

async function streamEncode(codec: StreamCodec, count: number, dimension: number): Promise<Buffer> {
  const summary: EncodeSummary = { count: 0, contentChecksum: '' };
  const pieces: Buffer[] = [];
  for await (const p of codec.encode(header(dimension, count), makeChunks(count, dimension, count), summary)) pieces.push(p);
  return Buffer.concat(pieces);
}

function compress(content: Buffer, compression: Compression): Buffer {
  if (compression === 'gzip') return zlib.gzipSync(content);
  if (compression === 'brotli') return zlib.brotliCompressSync(content, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } });
  return content;
}

async function codeOf(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${String(err)}`;
  }
  return 'ok';
}

const { dir, cleanup } = tempDir('vecsnap-detect-test-');
afterAll(cleanup);
let n = 0;
function fileWith(content: Buffer, name = 'file'): string {
  const file = path.join(dir, `${name}-${n++}`);
  writeFileSync(file, content);
  return file;
}

const FORMATS: Format[] = ['json', 'binary', 'sqlite'];
const COMPRESSIONS: Compression[] = ['none', 'gzip', 'brotli'];
/** Per format: a small file and one whose compressed form is larger than the 64 KiB head. */
const contents = new Map<string, Buffer>();

beforeAll(async () => {
  for (const [size, count, dimension] of [
    ['small', 5, 4],
    ['big', 3000, 48],
  ] as const) {
    contents.set(`json-${size}`, await streamEncode(jsonCodec, count, dimension));
    contents.set(`binary-${size}`, await streamEncode(binaryCodec, count, dimension));
    const sqlite = path.join(dir, `source-${size}.sqlite`);
    await writeSqliteFile(sqlite, header(dimension, count), makeChunks(count, dimension, count));
    contents.set(`sqlite-${size}`, readFileSync(sqlite));
  }
});

describe('detect: every format, plain or compressed', () => {
  for (const format of FORMATS) {
    for (const compression of COMPRESSIONS) {
      it(`finds ${format} with compression ${compression}, from the head and from the file`, async () => {
        for (const size of ['small', 'big']) {
          const stored = compress(contents.get(`${format}-${size}`)!, compression);
          if (size === 'big' && compression !== 'none') expect(stored.length).toBeGreaterThan(HEAD);
          const want = { format, compression };
          expect(await detectFromHead(stored, 'whole'), `${size} whole`).toEqual(want);
          expect(await detectFromHead(stored.subarray(0, HEAD), 'head'), `${size} head`).toEqual(want);
          expect(await detectFile(fileWith(stored, `${format}-${compression}`)), `${size} file`).toEqual(want);
        }
      });
    }
  }

  it('finds brotli by trial decompression (it has no magic bytes)', async () => {
    const stored = compress(contents.get('json-small')!, 'brotli');
    expect(stored.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]))).toBe(false);
    expect(formatFromMagic(stored)).toBeNull();
    expect(await detectFromHead(stored, 'x')).toEqual({ format: 'json', compression: 'brotli' });
  });

  it('finds JSON after a UTF-8 BOM and leading whitespace, plain or compressed', async () => {
    const text = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(' \r\n\t  \n'), contents.get('json-small')!]);
    for (const compression of COMPRESSIONS) {
      expect(await detectFile(fileWith(compress(text, compression), 'bom'))).toEqual({ format: 'json', compression });
    }
    // A JSON DatabaseState of the original module, pretty-printed.
    const legacy = Buffer.from(JSON.stringify({ version: '1.0.0', options: { dimension: 2 }, vectors: [{ id: 'a', vector: [1, 2] }] }, null, 2));
    expect(await detectFromHead(legacy, 'legacy')).toEqual({ format: 'json', compression: 'none' });
    expect(await detectFromHead(zlib.gzipSync(legacy), 'legacy')).toEqual({ format: 'json', compression: 'gzip' });
  });

  it('ignores the file extension', async () => {
    const file = path.join(dir, 'misnamed.json');
    writeFileSync(file, compress(contents.get('binary-small')!, 'gzip'));
    expect(await detectFile(file)).toEqual({ format: 'binary', compression: 'gzip' });
    expect(extensionFor('binary')).toBe('.bin');
    expect(extensionFor('sqlite')).toBe('.sqlite');
    expect(extensionFor('json')).toBe('.json');
  });
});

describe('detect: what is not a database', () => {
  it('reports an empty file as CORRUPT_FILE', async () => {
    expect(await codeOf(() => detectFromHead(Buffer.alloc(0), 'empty'))).toBe('CORRUPT_FILE');
    expect(await codeOf(() => detectFile(fileWith(Buffer.alloc(0), 'empty')))).toBe('CORRUPT_FILE');
  });

  it('reports gzip- or brotli-compressed non-database content as UNSUPPORTED_FORMAT', async () => {
    const text = Buffer.from('Just some notes, not a database.\n'.repeat(100));
    for (const inner of [text, Buffer.from('[1,2,3]'), Buffer.from('SQLite format 2\0 nope')]) {
      expect(await codeOf(() => detectFile(fileWith(zlib.gzipSync(inner), 'gz-text')))).toBe('UNSUPPORTED_FORMAT');
      expect(await codeOf(() => detectFile(fileWith(compress(inner, 'brotli'), 'br-text')))).toBe('UNSUPPORTED_FORMAT');
    }
    // gzip of an empty file: valid gzip holding nothing.
    expect(await codeOf(() => detectFromHead(zlib.gzipSync(Buffer.alloc(0)), 'empty gzip'))).toBe('UNSUPPORTED_FORMAT');
  });

  it('reports random bytes and plain text as UNSUPPORTED_FORMAT', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rand = rng(seed);
      const random = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(rand() * 256)));
      random[0] = 0x80 + seed; // neither gzip magic nor "{"
      expect(await codeOf(() => detectFile(fileWith(random, 'random'))), `seed ${seed}`).toBe('UNSUPPORTED_FORMAT');
    }
    for (const text of ['hello world', '[{"id":"a"}]', 'VSNAPBI', 'SQLite format 3', ' \n\t ']) {
      expect(await codeOf(() => detectFromHead(Buffer.from(text), 'text')), JSON.stringify(text)).toBe('UNSUPPORTED_FORMAT');
    }
  });

  it('reports a gzip header followed by garbage as CORRUPT_FILE', async () => {
    const gzipHeader = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]);
    // 0x07: a final deflate block of the reserved type 3, which no inflater accepts.
    const invalidBlock = Buffer.concat([gzipHeader, Buffer.from([0x07]), Buffer.alloc(100, 0x55)]);
    expect(await codeOf(() => detectFile(fileWith(invalidBlock, 'gz-garbage')))).toBe('CORRUPT_FILE');
    // Just the two magic bytes and a bad compression method.
    expect(await codeOf(() => detectFromHead(Buffer.from([0x1f, 0x8b, 0x63, 0x00, 1, 2, 3, 4, 5, 6, 7, 8]), 'x'))).toBe('CORRUPT_FILE');
    // A real gzip file whose deflate data was overwritten from byte 10 on.
    const real = zlib.gzipSync(contents.get('json-small')!);
    const rand = rng(77);
    const damaged = Buffer.from(real);
    for (let i = 10; i < damaged.length; i++) damaged[i] = Math.floor(rand() * 256);
    damaged[10] = 0x07;
    expect(await codeOf(() => detectFromHead(damaged, 'damaged'))).toBe('CORRUPT_FILE');
  });

  it('reports a missing file as NOT_FOUND', async () => {
    expect(await codeOf(() => detectFile(path.join(dir, 'does-not-exist.json')))).toBe('NOT_FOUND');
  });
});
