import { promises as fs } from 'node:fs';
import { VecSnapError, toVecSnapError } from '../errors.js';
import { GZIP_MAGIC, decompressHead } from '../io/compression.js';
import type { Compression, Format } from '../types.js';
import { BINARY_MAGIC } from './binary.js';
import { SQLITE_MAGIC } from './sqlite.js';

export interface DetectedFormat {
  format: Format;
  compression: Compression;
}

const HEAD_BYTES = 64 * 1024;

/** What the first bytes of an uncompressed file say it is, or null. */
export function formatFromMagic(head: Buffer): Format | null {
  if (head.length >= BINARY_MAGIC.length && head.subarray(0, BINARY_MAGIC.length).equals(BINARY_MAGIC)) return 'binary';
  if (head.length >= SQLITE_MAGIC.length && head.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) return 'sqlite';
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
  if (head[i] === 0x7b /* { */) return 'json';
  return null;
}

/**
 * Detects format and compression from content alone (SPEC §4): gzip by its magic bytes, brotli
 * (which has none) by trial decompression, then the inner format by its own magic.
 */
export async function detectFromHead(head: Buffer, label: string): Promise<DetectedFormat> {
  if (head.length === 0) {
    throw new VecSnapError('CORRUPT_FILE', `${label} is empty.`);
  }
  const plain = formatFromMagic(head);
  if (plain) return { format: plain, compression: 'none' };

  if (head.length >= 2 && head.subarray(0, 2).equals(GZIP_MAGIC)) {
    const inner = await decompressHead(head, 'gzip');
    if (inner === null) {
      throw new VecSnapError('CORRUPT_FILE', `${label} starts like a gzip file but its compressed data is damaged.`);
    }
    const format = formatFromMagic(inner);
    if (!format) {
      throw new VecSnapError(
        'UNSUPPORTED_FORMAT',
        `${label} is gzip-compressed, but what it holds is not a VecSnap database (JSON, binary or SQLite).`,
      );
    }
    return { format, compression: 'gzip' };
  }

  const inner = await decompressHead(head, 'brotli');
  const format = inner && inner.length > 0 ? formatFromMagic(inner) : null;
  if (format) return { format, compression: 'brotli' };

  throw new VecSnapError(
    'UNSUPPORTED_FORMAT',
    `${label} is not a VecSnap database: it is neither JSON, VecSnap binary nor SQLite, plain or gzip/brotli-compressed.`,
  );
}

export async function detectFile(file: string): Promise<DetectedFormat> {
  let head: Buffer;
  try {
    const handle = await fs.open(file, 'r');
    try {
      const buf = Buffer.alloc(HEAD_BYTES);
      const { bytesRead } = await handle.read(buf, 0, HEAD_BYTES, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (err) {
    const e = toVecSnapError(err, `Opening ${file}`);
    if (e.code === 'NOT_FOUND') throw new VecSnapError('NOT_FOUND', `The file ${file} does not exist.`, { cause: err });
    throw e;
  }
  return detectFromHead(head, `The file ${file}`);
}

export function extensionFor(format: Format): string {
  return format === 'binary' ? '.bin' : format === 'sqlite' ? '.sqlite' : '.json';
}
