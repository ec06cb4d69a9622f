import { promises as fs } from 'node:fs';
import path from 'node:path';
import { VecSnapError } from './errors.js';
import { extensionFor } from './formats/detect.js';
import { compressionSuffix } from './io/compression.js';
import type { Compression, Format } from './types.js';
import { COMPRESSIONS, FORMATS } from './types.js';

/** The original module's extensions: `database.json|bin|db` plus `.gzip`/`.brotli`. */
const LEGACY_EXT: Record<Format, string> = { json: '.json', binary: '.bin', sqlite: '.db' };

export function defaultSavePath(baseDir: string, format: Format, compression: Compression): string {
  return path.join(baseDir, `database${extensionFor(format)}${compressionSuffix(compression)}`);
}

/** The chain's base when it exists, else the newest `database.*` file (ours or the original's names). */
export async function findLatestSave(baseDir: string, chainBase: string | undefined): Promise<string> {
  if (chainBase && (await fs.stat(chainBase).then(() => true, () => false))) return chainBase;
  let best: { file: string; mtime: number } | undefined;
  for (const format of FORMATS) {
    const names = [
      ...COMPRESSIONS.map((c) => path.basename(defaultSavePath(baseDir, format, c))),
      `database${LEGACY_EXT[format]}`,
      `database${LEGACY_EXT[format]}.gzip`,
      `database${LEGACY_EXT[format]}.brotli`,
    ];
    for (const name of new Set(names)) {
      const file = path.join(baseDir, name);
      const stat = await fs.stat(file).catch(() => undefined);
      if (stat?.isFile() && (!best || stat.mtimeMs > best.mtime)) best = { file, mtime: stat.mtimeMs };
    }
  }
  if (!best) throw new VecSnapError('NOT_FOUND', `There is no saved database in ${baseDir} yet.`);
  return best.file;
}

export function checkFormat(format: unknown): Format {
  if (typeof format !== 'string' || !FORMATS.includes(format as Format)) {
    throw new VecSnapError('UNSUPPORTED_FORMAT', `Unknown format "${String(format)}"; use json, binary or sqlite.`);
  }
  return format as Format;
}

export function checkCompression(compression: unknown): Compression {
  if (typeof compression !== 'string' || !COMPRESSIONS.includes(compression as Compression)) {
    throw new VecSnapError('UNSUPPORTED_FORMAT', `Unknown compression "${String(compression)}"; use none, gzip or brotli.`);
  }
  return compression as Compression;
}
