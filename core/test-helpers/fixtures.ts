import { pbkdf2 } from 'node:crypto';
import { mkdtempSync, promises as fsp, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { prng } from '../sample-data.js';
import type { EntryChunk, Metadata, Metric } from '../types.js';
import { VectorDB } from '../vector-db.js';

export function tempDir(prefix = 'vecsnap-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** This process's descriptors on files under `dir` that no longer have a name (Linux: /proc). */
export function heldDeletedFiles(dir: string): string[] {
  const held: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let link: string;
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (link.startsWith(dir + path.sep) && link.endsWith(' (deleted)')) held.push(link);
  }
  return held;
}

/** The seeded mulberry32 generator the sample data uses. */
export const rng = prng;

/** Entries as chunks of `per`, the shape every format's encoder takes. */
export function toChunks(entries: { id: string; vector: Float32Array; metadata?: Metadata }[], dimension: number, per = 100): EntryChunk[] {
  const chunks: EntryChunk[] = [];
  for (let i = 0; i < entries.length; i += per) {
    const part = entries.slice(i, i + per);
    const vectors = new Float32Array(part.length * dimension);
    part.forEach((e, k) => vectors.set(e.vector, k * dimension));
    chunks.push({ ids: part.map((e) => e.id), vectors, metadata: part.map((e) => e.metadata) });
  }
  return chunks;
}

export const TRICKY_IDS = ['東京-🚀', 'quote"back\\slash', 'new\nline', 'tab\tand spaces ', 'ünïcödé-ß', '𝔘𝔫𝔦'];

/** A database with seeded vectors, tricky ids, varied metadata and special float values. */
export function makeDb(count: number, dimension = 16, seed = 1, metric: Metric = 'cosine'): VectorDB {
  const db = new VectorDB({ dimension, metric });
  const rand = rng(seed);
  const special = [-0, 1.401298464324817e-45, 3.4028234663852886e38, -3.4028234663852886e38, 0.1, 1e-40];
  for (let i = 0; i < count; i++) {
    const vector = new Float32Array(dimension);
    for (let j = 0; j < dimension; j++) vector[j] = rand() * 2 - 1;
    if (i < special.length) vector[0] = special[i]!;
    const id = i < TRICKY_IDS.length ? `${TRICKY_IDS[i]}-${i}` : `id-${i}`;
    const kind = i % 4;
    const metadata =
      kind === 0
        ? undefined
        : kind === 1
          ? { title: `doc ${i}`, score: rand(), tags: ['a', 'b'], nested: { ok: true, none: null } }
          : kind === 2
            ? {}
            : { text: 'Grüße 🌍 "quoted"', n: i, list: [1, 2.5, -3, { x: 'y' }] };
    db.insert(metadata === undefined ? { id, vector } : { id, vector, metadata });
  }
  return db;
}

function bytesOf(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** Same ids in the same order, bit-identical vectors, deep-equal metadata. */
export function expectSameDb(actual: VectorDB, expected: VectorDB): void {
  expect(actual.dimension).toBe(expected.dimension);
  expect(actual.metric).toBe(expected.metric);
  expect([...actual.ids()]).toEqual([...expected.ids()]);
  for (const e of expected.entries()) {
    const a = actual.get(e.id);
    expect(a, `entry ${e.id}`).toBeDefined();
    expect(bytesOf(a!.vector).equals(bytesOf(e.vector)), `vector bits of ${e.id}`).toBe(true);
    expect(a!.metadata).toEqual(e.metadata);
  }
}

export function cloneDb(db: VectorDB): VectorDB {
  const copy = new VectorDB({ dimension: db.dimension, metric: db.metric });
  for (const e of db.entries()) copy.insert(e);
  return copy;
}

/** Every file under `dir` (relative paths), for "nothing was left behind" checks. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${String(err)}`;
  }
  return 'resolved';
}

/**
 * Occupies every libuv thread-pool thread for a while, so file operations started meanwhile wait
 * in its queue (what makes races with background opens and writes happen every time).
 */
export function busyThreadPool(iterations = 300_000): Promise<unknown> {
  const size = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  return Promise.all(Array.from({ length: size }, () => promisify(pbkdf2)('x', 'y', iterations, 32, 'sha256')));
}

/** FileHandle's prototype (Node does not export the class), for spying on sync and datasync. */
export async function fileHandlePrototype(dir: string): Promise<{ sync: () => Promise<void>; datasync: () => Promise<void> }> {
  const probe = await fsp.open(path.join(dir, '.filehandle-probe'), 'w');
  await probe.close();
  await fsp.rm(path.join(dir, '.filehandle-probe'));
  return Object.getPrototypeOf(probe) as { sync: () => Promise<void>; datasync: () => Promise<void> };
}
