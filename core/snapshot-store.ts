import { promises as fs } from 'node:fs';
import path from 'node:path';
import { VecSnapError, toVecSnapError } from './errors.js';
import { isTempName, removeQuietly, writeJsonAtomic } from './io/atomic-write.js';
import { Mutex } from './mutex.js';
import type { Compression, Format, Metadata, Metric } from './types.js';
import { COMPRESSIONS, FORMATS } from './types.js';

export type IntegrityState = 'verified' | 'mismatch' | 'missing' | 'unverified';

/** SPEC §2 SnapshotMetadata; the fields after `metadata` are VecSnap's additions. */
export interface SnapshotMetadata {
  id: string;
  name: string;
  timestamp: number;
  vectorCount: number;
  dimension: number;
  format: Format;
  compressed: boolean;
  fileSize: number;
  /** SHA-256 (hex) of the snapshot file's bytes as stored. */
  checksum: string;
  metadata?: Metadata;
  compression?: Compression;
  pinned?: boolean;
  note?: string;
  tags?: string[];
  metric?: Metric;
  /** Format-independent checksum of the content (see formats/content-digest.ts). */
  contentChecksum?: string;
  /** Creation order, breaks ties between snapshots of the same millisecond. */
  seq?: number;
  /** Name of the data file inside the snapshots folder. */
  file?: string;
  /** Result of the last verification; `missing` is set by listing when the data file is gone. */
  integrity?: { state: IntegrityState; checkedAt?: number };
}

const META_SUFFIX = '.meta.json';
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function validateSnapshotId(id: unknown): string {
  if (typeof id !== 'string' || !SAFE_ID.test(id) || id.includes('..')) {
    throw new VecSnapError('NOT_FOUND', `There is no snapshot with the id "${String(id).slice(0, 80)}".`);
  }
  return id;
}

/** Compares newest first; snapshots of the same millisecond by creation order, newest first. */
export function newestFirst(a: SnapshotMetadata, b: SnapshotMetadata): number {
  return b.timestamp - a.timestamp || (b.seq ?? 0) - (a.seq ?? 0) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * The snapshots folder: one data file and one `<id>.meta.json` per snapshot. Reads folders of
 * the original module too (`<uuid>.json|binary|sqlite`, no compression suffix).
 */
export class SnapshotStore {
  private readonly metaLock = new Mutex();
  /** Metadata updates started with updateMetaLater and not finished yet. */
  private readonly later = new Set<Promise<void>>();

  constructor(readonly dir: string) {}

  metaPath(id: string): string {
    return path.join(this.dir, `${id}${META_SUFFIX}`);
  }

  /** All snapshots, newest first. Unreadable metadata files are reported in `problems`. */
  async listWithProblems(): Promise<{ snapshots: SnapshotMetadata[]; problems: string[]; orphans: string[] }> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { snapshots: [], problems: [], orphans: [] };
      throw toVecSnapError(err, `Listing ${this.dir}`);
    }
    const nameSet = new Set(names);
    const snapshots: SnapshotMetadata[] = [];
    const problems: string[] = [];
    const claimed = new Set<string>();
    for (const name of names) {
      if (!name.endsWith(META_SUFFIX) || isTempName(name)) continue;
      const id = name.slice(0, -META_SUFFIX.length);
      try {
        const meta = await this.readMeta(id);
        const file = this.findDataFile(meta, nameSet);
        if (file) {
          claimed.add(file);
          meta.file = file;
        } else {
          meta.integrity = { state: 'missing' };
        }
        snapshots.push(meta);
      } catch (err) {
        problems.push(`${name}: ${(err as Error).message}`);
      }
    }
    const orphans = names.filter(
      (n) => !n.endsWith(META_SUFFIX) && !isTempName(n) && !claimed.has(n) && !n.startsWith('.'),
    );
    snapshots.sort(newestFirst);
    return { snapshots, problems, orphans };
  }

  async list(): Promise<SnapshotMetadata[]> {
    return (await this.listWithProblems()).snapshots;
  }

  /** A snapshot's metadata, with every update this process started on it written (updateMetaLater). */
  async readMeta(id: string): Promise<SnapshotMetadata> {
    await this.laterWritten();
    return this.readMetaNow(id);
  }

  private async readMetaNow(id: string): Promise<SnapshotMetadata> {
    validateSnapshotId(id);
    let text: string;
    try {
      text = await fs.readFile(this.metaPath(id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new VecSnapError('NOT_FOUND', `There is no snapshot with the id "${id}".`);
      }
      throw toVecSnapError(err, `Reading the metadata of snapshot ${id}`);
    }
    let meta: unknown;
    try {
      meta = JSON.parse(text);
    } catch {
      throw new VecSnapError('CORRUPT_FILE', `The metadata file of snapshot ${id} is not valid JSON.`);
    }
    return normalizeMeta(id, meta);
  }

  /** Path of the snapshot's data file; NOT_FOUND (naming the id) when only the metadata exists. */
  async dataPath(meta: SnapshotMetadata): Promise<string> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      throw toVecSnapError(err, `Listing ${this.dir}`);
    }
    const file = this.findDataFile(meta, new Set(names));
    if (!file) {
      throw new VecSnapError(
        'NOT_FOUND',
        `The data file of snapshot "${meta.name}" (${meta.id}) is missing; only its metadata file is left.`,
      );
    }
    return path.join(this.dir, file);
  }

  private findDataFile(meta: SnapshotMetadata, names: Set<string>): string | undefined {
    if (meta.file && names.has(meta.file) && path.basename(meta.file) === meta.file) return meta.file;
    // Original layout: <uuid>.<format>; ours: <id>.<ext>[.gz|.br].
    const candidates = [
      `${meta.id}.${meta.format}`,
      `${meta.id}.bin`,
      `${meta.id}.json`,
      `${meta.id}.sqlite`,
      `${meta.id}.binary`,
    ];
    for (const c of candidates) {
      for (const suffix of ['', '.gz', '.br']) if (names.has(c + suffix)) return c + suffix;
    }
    return undefined;
  }

  async writeMeta(meta: SnapshotMetadata): Promise<void> {
    await writeJsonAtomic(this.metaPath(meta.id), meta);
  }

  /** Read-modify-write of one snapshot's metadata, serialised so concurrent updates never lose one. */
  async updateMeta(id: string, change: (meta: SnapshotMetadata) => void): Promise<SnapshotMetadata> {
    return this.metaLock.run(async () => {
      // Not readMeta: an updateMetaLater queued before this one has finished (the lock is in
      // arrival order), and waiting for the ones queued after it would wait for itself.
      const meta = await this.readMetaNow(id);
      change(meta);
      await this.writeMeta(meta);
      return meta;
    });
  }

  /**
   * updateMeta, queued now and not waited for: for a record whose caller already has its answer
   * (verify's integrity stamp). The atomic write behind it, with its fsyncs and thread-pool round
   * trips, took 6-12 ms after the hash of a 140 MB snapshot on this machine, 5-10% of the verify.
   * Every later read and update in this process comes after it (readMeta waits; updateMeta and
   * remove queue behind it), and laterWritten() waits for it at shutdown. A failure is only the
   * record lost (the snapshot deleted meanwhile, or the disk refusing the write): the caller's
   * answer stands, and the next verify writes the record again.
   */
  updateMetaLater(id: string, change: (meta: SnapshotMetadata) => void): void {
    const writing: Promise<void> = this.updateMeta(id, change).then(
      () => undefined,
      () => undefined,
    );
    this.later.add(writing);
    void writing.then(() => this.later.delete(writing));
  }

  /** Resolves once every updateMetaLater started so far has finished. */
  async laterWritten(): Promise<void> {
    while (this.later.size > 0) await Promise.all([...this.later]);
  }

  /** Removes the metadata first (so it is never listed again), then the data file. */
  async remove(meta: SnapshotMetadata): Promise<void> {
    let data: string | undefined;
    try {
      data = await this.dataPath(meta);
    } catch {
      data = undefined;
    }
    await this.metaLock.run(async () => {
      try {
        await fs.rm(this.metaPath(meta.id));
      } catch (err) {
        throw toVecSnapError(err, `Deleting snapshot ${meta.id}`);
      }
    });
    if (data) await removeQuietly(data);
  }

  async nextSeq(): Promise<number> {
    const all = await this.list();
    return all.reduce((max, s) => Math.max(max, s.seq ?? 0), 0) + 1;
  }
}

function normalizeMeta(id: string, raw: unknown): SnapshotMetadata {
  const bad = (what: string): never => {
    throw new VecSnapError('CORRUPT_FILE', `The metadata file of snapshot ${id} is invalid: ${what}.`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('not an object');
  const m = raw as Record<string, unknown>;
  if (m.id !== id) bad(`its id "${String(m.id)}" does not match its file name`);
  const format = m.format;
  if (typeof format !== 'string' || !FORMATS.includes(format as Format)) bad(`unknown format "${String(format)}"`);
  const compression =
    typeof m.compression === 'string' && COMPRESSIONS.includes(m.compression as Compression)
      ? (m.compression as Compression)
      : undefined;
  const meta: SnapshotMetadata = {
    ...(m as unknown as SnapshotMetadata),
    id,
    name: typeof m.name === 'string' ? m.name : id,
    timestamp: toTimestamp(m.timestamp),
    vectorCount: typeof m.vectorCount === 'number' ? m.vectorCount : 0,
    dimension: typeof m.dimension === 'number' ? m.dimension : 0,
    format: format as Format,
    compressed: m.compressed === true || (compression !== undefined && compression !== 'none'),
    fileSize: typeof m.fileSize === 'number' ? m.fileSize : 0,
    checksum: typeof m.checksum === 'string' ? m.checksum : '',
  };
  if (compression) meta.compression = compression;
  return meta;
}

/** The original wrote `timestamp` as ms; be lenient with ISO strings written by hand. */
function toTimestamp(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const t = Date.parse(value);
    if (Number.isFinite(t)) return t;
  }
  return 0;
}
