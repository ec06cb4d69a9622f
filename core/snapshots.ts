import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { VecSnapError, throwIfAborted } from './errors.js';
import { compareJsonFileTexts } from './compare-json-text.js';
import { compareDatasetFiles, emptyContentDiff, type ContentDiff } from './compare.js';
import { openDatasetFile, writeDatasetFile } from './formats/dataset-io.js';
import { writeAtomic } from './io/atomic-write.js';
import { pipeIntoFile } from './io/file-sink.js';
import { detectFile, extensionFor } from './formats/detect.js';
import { sha256File } from './io/checksum.js';
import { compressionSuffix } from './io/compression.js';
import { ProgressReporter, twoPassProgress } from './io/progress.js';
import { SnapshotStore, validateSnapshotId, type IntegrityState, type SnapshotMetadata } from './snapshot-store.js';
import type { Compression, Format, LongOperationOptions, Metadata, StoredEntry } from './types.js';
import { isPlainObject } from './validation.js';
import type { VectorDB } from './vector-db.js';

export interface CreateSnapshotOptions extends LongOperationOptions {
  format?: Format;
  compression?: Compression;
  note?: string;
  tags?: string[];
  pinned?: boolean;
  /** Retention for this call: unpinned snapshots kept once this one is written (see enforceRetention). */
  maxSnapshots?: number;
}

export interface VerifyResult {
  id: string;
  state: Exclude<IntegrityState, 'unverified'>;
  ok: boolean;
  expected: string;
  actual?: string;
  checkedAt: number;
  message: string;
}

export interface SnapshotPage {
  id: string;
  offset: number;
  limit: number;
  total: number;
  dimension: number;
  entries: StoredEntry[];
}

export interface SnapshotComparison {
  a: SnapshotMetadata;
  b: SnapshotMetadata;
  /** b.fileSize − a.fileSize */
  sizeDifference: number;
  /** b.vectorCount − a.vectorCount */
  countDifference: number;
  sameChecksum: boolean;
  sameDimension: boolean;
  /** True when both content checksums are known and equal (then `diff` is all unchanged). */
  sameContent: boolean;
  diff?: ContentDiff;
}

export interface CompareSnapshotsOptions extends LongOperationOptions {
  /** Compute the content diff (default true); false compares metadata only. */
  content?: boolean;
  sampleSize?: number;
}

export interface ExportSnapshotOptions extends LongOperationOptions {
  path: string;
  format?: Format;
  compression?: Compression;
}

export interface SnapshotExportResult {
  path: string;
  format: Format;
  compression: Compression;
  fileSize: number;
  checksum: string;
  vectorCount: number;
  /** True when the snapshot file was copied byte for byte (same format and compression). */
  copied: boolean;
}

const BATCH = 4096;

function checksumMismatch(meta: SnapshotMetadata): VecSnapError {
  return new VecSnapError(
    'CHECKSUM_MISMATCH',
    `Snapshot "${meta.name}" is damaged: its file's checksum does not match the one recorded when it was taken.`,
  );
}

/** Snapshot operations over the snapshots folder; the database is only read (create). */
export class SnapshotManager {
  constructor(readonly store: SnapshotStore) {}

  async resolve(id: string): Promise<{ meta: SnapshotMetadata; file: string }> {
    const meta = await this.store.readMeta(validateSnapshotId(id));
    return { meta, file: await this.store.dataPath(meta) };
  }

  async create(
    db: VectorDB,
    name: string,
    metadata: Metadata | undefined,
    options: CreateSnapshotOptions & { format: Format; compression: Compression; batchSize: number },
  ): Promise<SnapshotMetadata> {
    if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
      throw new VecSnapError('INVALID_ARGUMENT', 'A snapshot needs a name of 1 to 200 characters.');
    }
    if (metadata !== undefined && !isPlainObject(metadata)) {
      throw new VecSnapError('INVALID_METADATA', 'Snapshot metadata must be a plain object.');
    }
    if (options.tags !== undefined && (!Array.isArray(options.tags) || options.tags.some((t) => typeof t !== 'string'))) {
      throw new VecSnapError('INVALID_ARGUMENT', 'Snapshot tags must be a list of strings.');
    }
    const id = randomUUID();
    const fileName = `${id}${extensionFor(options.format)}${compressionSuffix(options.compression)}`;
    const file = path.join(this.store.dir, fileName);
    const seq = await this.store.nextSeq();
    const progress = new ProgressReporter('snapshot', options.onProgress);
    const total = db.size;
    const timestamp = Date.now();
    const written = await writeDatasetFile(file, {
      format: options.format,
      compression: options.compression,
      header: {
        dimension: db.dimension,
        metric: db.metric,
        count: total,
        createdAt: timestamp,
        metadata: { snapshotId: id, snapshotName: name, ...(metadata ?? {}) },
      },
      chunks: db.readChunks(options.batchSize, { recycle: true }),
      sizeHint: total * db.dimension * 4,
      ...(options.signal ? { signal: options.signal } : {}),
      onEntries: (n) => progress.update({ current: n, total, phase: 'writing' }),
    });
    const meta: SnapshotMetadata = {
      id,
      name,
      timestamp,
      vectorCount: written.count,
      dimension: db.dimension,
      format: options.format,
      compressed: options.compression !== 'none',
      fileSize: written.bytes,
      checksum: written.sha256,
      ...(metadata !== undefined ? { metadata } : {}),
      compression: options.compression,
      pinned: options.pinned ?? false,
      ...(options.note !== undefined ? { note: options.note } : {}),
      ...(options.tags !== undefined ? { tags: options.tags } : {}),
      metric: db.metric,
      contentChecksum: written.contentChecksum,
      seq,
      file: fileName,
      integrity: { state: 'verified', checkedAt: timestamp },
    };
    try {
      throwIfAborted(options.signal, 'Creating the snapshot');
      await this.store.writeMeta(meta);
    } catch (err) {
      await this.store.remove(meta).catch(() => undefined);
      throw err;
    }
    progress.done(`Snapshot "${name}" created`, { current: written.count, total: written.count });
    return meta;
  }

  /** Deletes the oldest unpinned snapshots beyond `max` (pinned ones are never deleted nor counted). */
  async enforceRetention(max: number, keepId?: string): Promise<string[]> {
    if (!Number.isFinite(max) || max <= 0) return [];
    const unpinned = (await this.store.list()).filter((s) => !s.pinned);
    const removed: string[] = [];
    for (const snap of unpinned.slice(max).reverse()) {
      if (snap.id === keepId) continue;
      await this.store.remove(snap);
      removed.push(snap.id);
    }
    return removed;
  }

  async verify(id: string, options: LongOperationOptions = {}): Promise<VerifyResult> {
    const meta = await this.store.readMeta(validateSnapshotId(id));
    const checkedAt = Date.now();
    let file: string;
    try {
      file = await this.store.dataPath(meta);
    } catch {
      await this.store.updateMeta(id, (m) => (m.integrity = { state: 'missing', checkedAt }));
      return {
        id,
        state: 'missing',
        ok: false,
        expected: meta.checksum,
        checkedAt,
        message: `The data file of snapshot "${meta.name}" is missing.`,
      };
    }
    const progress = new ProgressReporter('verify', options.onProgress);
    const { sha256, bytes } = await sha256File(file, {
      ...(options.signal ? { signal: options.signal } : {}),
      onBytes: (done, total) => progress.update({ current: done, total, bytesDone: done, bytesTotal: total }),
    });
    const ok = sha256 === meta.checksum;
    // The answer is the hash; the stamp records it, and this process reads it back as written.
    this.store.updateMetaLater(id, (m) => (m.integrity = { state: ok ? 'verified' : 'mismatch', checkedAt }));
    progress.done(ok ? 'Checksum verified' : 'Checksum mismatch', { current: bytes, total: bytes });
    return {
      id,
      state: ok ? 'verified' : 'mismatch',
      ok,
      expected: meta.checksum,
      actual: sha256,
      checkedAt,
      message: ok
        ? `Snapshot "${meta.name}" is intact: its SHA-256 checksum matches.`
        : `Snapshot "${meta.name}" is damaged: its SHA-256 checksum does not match the one recorded when it was taken.`,
    };
  }

  async pin(id: string, pinned: boolean): Promise<SnapshotMetadata> {
    if (typeof pinned !== 'boolean') throw new VecSnapError('INVALID_ARGUMENT', 'pinSnapshot needs true or false.');
    return this.store.updateMeta(validateSnapshotId(id), (m) => (m.pinned = pinned));
  }

  async update(id: string, changes: { name?: string; note?: string; tags?: string[] }): Promise<SnapshotMetadata> {
    return this.store.updateMeta(validateSnapshotId(id), (m) => {
      if (changes.name !== undefined) m.name = changes.name;
      if (changes.note !== undefined) m.note = changes.note;
      if (changes.tags !== undefined) m.tags = changes.tags;
    });
  }

  async delete(id: string, options: { force?: boolean } = {}): Promise<void> {
    const meta = await this.store.readMeta(validateSnapshotId(id));
    if (meta.pinned && !options.force) {
      throw new VecSnapError('INVALID_ARGUMENT', `Snapshot "${meta.name}" is pinned; unpin it before deleting it.`);
    }
    await this.store.remove(meta);
  }

  async page(id: string, offset: number, limit: number, signal?: AbortSignal): Promise<SnapshotPage> {
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new VecSnapError('INVALID_ARGUMENT', 'A page needs an offset ≥ 0 and a limit from 1 to 10,000.');
    }
    const { meta, file } = await this.resolve(id);
    // Paging skips the content check (it would need the whole file); verify does the full check.
    const dataset = await openDatasetFile(file, { verifyChecksum: false, batchSize: BATCH, ...(signal ? { signal } : {}) });
    const entries: StoredEntry[] = [];
    let index = 0;
    try {
      for await (const chunk of dataset.chunks) {
        const dim = dataset.header.dimension;
        const n = chunk.ids.length;
        if (index + n > offset) {
          for (let i = Math.max(0, offset - index); i < n && entries.length < limit; i++) {
            const entry: StoredEntry = { id: chunk.ids[i]!, vector: chunk.vectors.slice(i * dim, (i + 1) * dim) };
            const m = chunk.metadata[i];
            if (m !== undefined) entry.metadata = m;
            entries.push(entry);
          }
        }
        index += n;
        if (entries.length >= limit) break;
      }
    } finally {
      await dataset.close();
    }
    return { id, offset, limit, total: meta.vectorCount || dataset.header.count, dimension: dataset.header.dimension, entries };
  }

  /**
   * Writes a snapshot to `path`: a byte copy when format and compression stay the same, else a
   * conversion. Either way the source's checksum is checked before the target is renamed into
   * place, so a damaged snapshot never produces an export.
   */
  async exportTo(id: string, options: ExportSnapshotOptions): Promise<SnapshotExportResult> {
    const { meta, file } = await this.resolve(id);
    const target = path.resolve(options.path);
    // What the file really is (legacy metadata may not say which compression it used).
    const actual = await detectFile(file);
    const format = options.format ?? actual.format;
    const compression = options.compression ?? actual.compression;
    const progress = new ProgressReporter('export', options.onProgress);
    const signal = options.signal;
    if (format === actual.format && compression === actual.compression) {
      const hash = createHash('sha256');
      let bytes = 0;
      await writeAtomic(target, async (temp) => {
        const tap = new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            bytes += chunk.length;
            progress.update({ current: bytes, total: meta.fileSize, bytesDone: bytes, bytesTotal: meta.fileSize });
            done(null, chunk);
          },
          flush(done) {
            done(hash.copy().digest('hex') === meta.checksum ? null : checksumMismatch(meta));
          },
        });
        await pipeIntoFile(temp, () => [createReadStream(file), tap], { sync: true, ...(signal ? { signal } : {}) });
      }, { synced: true });
      progress.done(`Exported snapshot "${meta.name}"`, { current: bytes, total: bytes });
      return { path: target, format, compression, fileSize: bytes, checksum: meta.checksum, vectorCount: meta.vectorCount, copied: true };
    }
    const dataset = await openDatasetFile(file, {
      detected: actual,
      hashFile: true,
      ...(signal ? { signal } : {}),
      onBytes: (n, size) => progress.update({ current: n, total: size, bytesDone: n, bytesTotal: size, phase: 'converting' }),
    });
    try {
      async function* checked() {
        yield* dataset.chunks;
        if (dataset.fileSha256() !== meta.checksum) throw checksumMismatch(meta);
      }
      const written = await writeDatasetFile(target, {
        format,
        compression,
        header: { ...dataset.header, metadata: { ...(dataset.header.metadata ?? {}), exportedAt: Date.now() } },
        chunks: checked(),
        ...(signal ? { signal } : {}),
      });
      progress.done(`Exported snapshot "${meta.name}"`, { current: written.count, total: written.count });
      return {
        path: target,
        format,
        compression,
        fileSize: written.bytes,
        checksum: written.sha256,
        vectorCount: written.count,
        copied: false,
      };
    } finally {
      await dataset.close();
    }
  }

  async compare(idA: string, idB: string, options: CompareSnapshotsOptions = {}): Promise<SnapshotComparison> {
    const a = await this.resolve(idA);
    const b = await this.resolve(idB);
    const sameContent =
      a.meta.contentChecksum !== undefined && a.meta.contentChecksum === b.meta.contentChecksum;
    const result: SnapshotComparison = {
      a: a.meta,
      b: b.meta,
      sizeDifference: b.meta.fileSize - a.meta.fileSize,
      countDifference: b.meta.vectorCount - a.meta.vectorCount,
      sameChecksum: a.meta.checksum === b.meta.checksum,
      sameDimension: a.meta.dimension === b.meta.dimension,
      sameContent,
    };
    if (options.content === false) return result;
    if (sameContent) {
      result.diff = emptyContentDiff(a.meta.vectorCount);
      new ProgressReporter('compare', options.onProgress).done('Both snapshots hold the same content');
      return result;
    }
    // VecSnap JSON compares by entry text, checked by the file checksums recorded here. When that
    // gives up (possibly after reading both files), the ordinary compare's progress carries on.
    const passes = twoPassProgress(options.onProgress);
    const asText =
      a.meta.format === 'json' && b.meta.format === 'json'
        ? await compareJsonFileTexts({ file: a.file, sha256: a.meta.checksum }, { file: b.file, sha256: b.meta.checksum }, { ...options, onProgress: passes.first })
        : null;
    result.diff = asText ?? (await compareDatasetFiles(a.file, b.file, { ...options, onProgress: passes.second }));
    return result;
  }
}
