import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AutoSaver } from './auto-save.js';
import { VecSnapError, toVecSnapError } from './errors.js';
import { writeDatasetFile, type WriteDatasetOptions, type WrittenDatasetUnhashed } from './formats/dataset-io.js';
import { IncrementalChain, type ChainState } from './incremental.js';
import { cleanupStaleTemps, freeReplacedFilesAfter } from './io/atomic-write.js';
import { ProgressReporter } from './io/progress.js';
import { Mutex } from './mutex.js';
import { readDatasetIntoNewDb } from './read-dataset.js';
import { SnapshotStore, type SnapshotMetadata } from './snapshot-store.js';
import {
  SnapshotManager,
  type CompareSnapshotsOptions,
  type CreateSnapshotOptions,
  type ExportSnapshotOptions,
  type SnapshotExportResult,
  type SnapshotComparison,
  type SnapshotPage,
  type VerifyResult,
} from './snapshots.js';
import { inspectDatasetFile, type FileInspection } from './inspect.js';
import type { Compression, Format, LongOperationOptions, Metadata } from './types.js';
import { checkCompression, checkFormat, defaultSavePath, findLatestSave } from './save-paths.js';
import { optionalCount } from './validation.js';
import type {
  ExportOptions,
  ExportResult,
  ImportOptions,
  ImportResult,
  IncrementalSaveOptions,
  LoadOptions,
  PersistenceOptions,
  RestoreOptions,
  SaveOptions,
} from './persistence-types.js';
import { VectorDB } from './vector-db.js';

export type * from './persistence-types.js';

const DEFAULT_BATCH = 1024;

/**
 * The SPEC §2 persistence manager. Operations that read or replace the database run one at a
 * time (a queue), snapshot-file operations (list, verify, compare, page, pin) run alongside.
 */
export class DatabasePersistence {
  readonly baseDir: string;
  private readonly options: Required<Omit<PersistenceOptions, 'onAutoSaveError' | 'onAutoSave'>> &
    Pick<PersistenceOptions, 'onAutoSaveError' | 'onAutoSave'>;
  private readonly ready: Promise<void>;
  private readonly queue = new Mutex();
  private readonly store: SnapshotStore;
  private readonly snapshots: SnapshotManager;
  private readonly chain: IncrementalChain;
  private readonly autoSaver: AutoSaver;
  private closed = false;
  /** Temp files of interrupted writes removed at start-up, for the caller to report. */
  cleanedUp: string[] = [];

  constructor(
    readonly db: VectorDB,
    options: PersistenceOptions,
  ) {
    if (!(db instanceof VectorDB)) throw new VecSnapError('INVALID_ARGUMENT', 'DatabasePersistence needs a VectorDB.');
    if (!options || typeof options.baseDir !== 'string' || options.baseDir === '') {
      throw new VecSnapError('INVALID_ARGUMENT', 'DatabasePersistence needs a baseDir.');
    }
    if (options.batchSize !== undefined && (!Number.isInteger(options.batchSize) || options.batchSize < 1)) {
      throw new VecSnapError('INVALID_ARGUMENT', `batchSize must be a positive integer (got ${String(options.batchSize)}).`);
    }
    this.baseDir = path.resolve(options.baseDir);
    this.options = {
      baseDir: this.baseDir,
      format: checkFormat(options.format ?? 'json'),
      compression: checkCompression(options.compression ?? 'none'),
      incremental: options.incremental ?? false,
      autoSaveInterval: options.autoSaveInterval ?? 0,
      maxSnapshots: options.maxSnapshots ?? 10,
      batchSize: options.batchSize ?? DEFAULT_BATCH,
      onAutoSaveError: options.onAutoSaveError,
      onAutoSave: options.onAutoSave,
    };
    this.store = new SnapshotStore(path.join(this.baseDir, 'snapshots'));
    this.snapshots = new SnapshotManager(this.store);
    this.chain = new IncrementalChain(this.baseDir);
    this.autoSaver = new AutoSaver({
      due: () => this.db.hasChanges() && !this.closed,
      save: () => (this.options.incremental ? this.saveIncremental() : this.save()),
      ...(options.onAutoSave ? { onSaved: options.onAutoSave } : {}),
      ...(options.onAutoSaveError ? { onError: options.onAutoSaveError } : {}),
    });
    // Every method awaits this, so the object is usable at once (the original raced here).
    this.ready = this.init();
    this.ready.catch(() => undefined);
    if (this.options.autoSaveInterval > 0) this.startAutoSave();
  }

  private async init(): Promise<void> {
    try {
      await fs.mkdir(this.store.dir, { recursive: true });
    } catch (err) {
      throw toVecSnapError(err, `Preparing the data folder ${this.baseDir}`);
    }
    for (const dir of [this.baseDir, this.store.dir, this.chain.dir]) {
      this.cleanedUp.push(...(await cleanupStaleTemps(dir)).map((n) => path.join(dir, n)));
    }
  }

  /** Waits for set-up, refuses work after shutdown. */
  private async enter(): Promise<void> {
    if (this.closed) throw new VecSnapError('BUSY', 'This VecSnap instance has been shut down.');
    await this.ready;
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.enter().then(() => this.queue.run(() => freeReplacedFilesAfter(task)));
  }

  defaultPath(format: Format = this.options.format, compression: Compression = this.options.compression): string {
    return defaultSavePath(this.baseDir, format, compression);
  }

  private resolveCompression(compress: boolean | Compression | undefined): Compression {
    if (compress === undefined) return this.options.compression;
    if (compress === true) return this.options.compression === 'none' ? 'gzip' : this.options.compression;
    if (compress === false) return 'none';
    return checkCompression(compress);
  }

  // ---- save / load ------------------------------------------------------------------------

  async save(options: SaveOptions = {}): Promise<string> {
    return this.exclusive(() => this.fullSave(options));
  }

  private async fullSave(options: SaveOptions): Promise<string> {
    const format = checkFormat(options.format ?? this.options.format);
    const compression = this.resolveCompression(options.compress);
    const target = options.path ? path.resolve(options.path) : this.defaultPath(format, compression);
    const progress = new ProgressReporter('save', options.onProgress);
    const changes = this.db.takeChanges();
    let written: WrittenDatasetUnhashed;
    try {
      // No SHA-256 of the file's bytes: nothing reads one for the main save (its content checksum
      // is checked on every load), and it was a second pass over every byte.
      written = await writeDatasetFile(target, { ...this.datasetToWrite(format, compression, progress, options.signal), fileChecksum: false });
      await this.chain.reset({
        file: this.chain.relative(target),
        format,
        compression,
        contentChecksum: written.contentChecksum,
        bytes: written.bytes,
        count: written.count,
        savedAt: Date.now(),
      });
    } catch (err) {
      this.db.restoreChanges(changes);
      throw err;
    }
    progress.done(`Saved ${written.count} vectors`, { current: written.count, total: written.count, bytesDone: written.bytes, bytesTotal: written.bytes });
    return target;
  }

  /** What writeDatasetFile needs to write the whole database. */
  private datasetToWrite(
    format: Format,
    compression: Compression,
    progress: ProgressReporter,
    signal: AbortSignal | undefined,
    metadata?: Metadata,
  ): WriteDatasetOptions {
    const total = this.db.size;
    return {
      format,
      compression,
      header: {
        dimension: this.db.dimension,
        metric: this.db.metric,
        count: total,
        createdAt: Date.now(),
        ...(metadata ? { metadata } : {}),
      },
      chunks: this.db.readChunks(this.options.batchSize, { recycle: true }),
      sizeHint: total * this.db.dimension * 4,
      ...(signal ? { signal } : {}),
      onEntries: (n) => progress.update({ current: n, total, phase: 'writing' }),
    };
  }

  async saveIncremental(options: IncrementalSaveOptions = {}): Promise<string | null> {
    return this.exclusive(async () => {
      const format = checkFormat(options.format ?? this.options.format);
      const target = options.path ? path.resolve(options.path) : undefined;
      const chain = await this.chain.read().catch(() => null);
      const usable = chain !== null && (await this.chainUsable(chain, target)) ? chain : null;
      if (usable === null) {
        // No base to build on yet: the first incremental save is a full one.
        return this.fullSave({ ...options, format, ...(target ? { path: target } : {}) });
      }
      if (!this.db.hasChanges()) return null;
      if (this.db.changeCounts().needsFullSave || this.chain.shouldCompact(usable)) {
        // Compaction: the chain got large (or a delta cannot describe the change); rewrite the base.
        return this.fullSave({
          ...options,
          path: this.chain.resolve(usable.base.file),
          format: usable.base.format,
          compress: usable.base.compression,
        });
      }
      const progress = new ProgressReporter('saveIncremental', options.onProgress);
      const changes = this.db.takeChanges();
      const total = changes.added.size + changes.changed.size;
      try {
        const { path: deltaPath, delta } = await this.chain.append(usable, this.db, changes, this.options.batchSize, {
          ...(options.signal ? { signal: options.signal } : {}),
          onEntries: (n) => progress.update({ current: n, total, phase: 'writing changes' }),
        });
        progress.done(`Saved ${delta.upserts} changed and ${delta.deletes} deleted vectors`, { current: total, total });
        return deltaPath;
      } catch (err) {
        this.db.restoreChanges(changes);
        throw err;
      }
    });
  }

  /** The chain continues only while its base file is where it was and holds what it held. */
  private async chainUsable(chain: ChainState, target: string | undefined): Promise<boolean> {
    const base = this.chain.resolve(chain.base.file);
    if (target && target !== base) return false;
    try {
      const stat = await fs.stat(base);
      return stat.size === chain.base.bytes;
    } catch {
      return false;
    }
  }

  async load(options: LoadOptions = {}): Promise<void> {
    return this.exclusive(async () => {
      if (options.format !== undefined) checkFormat(options.format);
      const chain = await this.chain.read();
      const file = options.path ? path.resolve(options.path) : await findLatestSave(this.baseDir, chain ? this.chain.resolve(chain.base.file) : undefined);
      const progress = new ProgressReporter('load', options.onProgress);
      const read = await readDatasetIntoNewDb(file, {
        ...(options.verifyChecksum !== undefined ? { verifyChecksum: options.verifyChecksum } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        progress,
      });
      const isBase =
        chain !== null &&
        this.chain.resolve(chain.base.file) === file &&
        read.contentChecksum === chain.base.contentChecksum;
      if (isBase && chain.deltas.length > 0) {
        await this.chain.applyTo(chain, read.db, {
          ...(options.verifyChecksum !== undefined ? { verifyChecksum: options.verifyChecksum } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
      }
      this.db.replaceContents(read.db);
      if (isBase) this.db.markSaved();
      else this.db.markNeedsFullSave();
      progress.done(`Loaded ${this.db.size} vectors`, { current: this.db.size, total: this.db.size });
    });
  }

  // ---- snapshots --------------------------------------------------------------------------

  async createSnapshot(name: string, metadata?: Metadata, options: CreateSnapshotOptions = {}): Promise<SnapshotMetadata> {
    const keep = optionalCount(options.maxSnapshots, 'maxSnapshots');
    return this.exclusive(async () => {
      const meta = await this.snapshots.create(this.db, name, metadata, {
        ...options,
        format: checkFormat(options.format ?? this.options.format),
        compression: checkCompression(options.compression ?? this.options.compression),
        batchSize: this.options.batchSize,
      });
      await this.snapshots.enforceRetention(keep ?? this.options.maxSnapshots, meta.id);
      return meta;
    });
  }

  async listSnapshots(): Promise<SnapshotMetadata[]> {
    await this.enter();
    return this.store.list();
  }

  /** The snapshots plus what the folder holds that is not one: unreadable metadata, orphaned data files. */
  async snapshotListing(): Promise<{ snapshots: SnapshotMetadata[]; problems: string[]; orphans: string[] }> {
    await this.enter();
    return this.store.listWithProblems();
  }

  async getSnapshot(id: string): Promise<SnapshotMetadata> {
    await this.enter();
    return (await this.snapshots.resolve(id)).meta;
  }

  async restoreSnapshot(id: string, options: RestoreOptions = {}): Promise<SnapshotMetadata> {
    return this.exclusive(async () => {
      const { meta, file } = await this.snapshots.resolve(id);
      const progress = new ProgressReporter('restore', options.onProgress);
      const read = await readDatasetIntoNewDb(file, {
        ...(options.verifyChecksum !== undefined ? { verifyChecksum: options.verifyChecksum } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        expectSha256: meta.checksum,
        progress,
        label: 'Restoring',
      });
      this.db.replaceContents(read.db);
      this.db.markNeedsFullSave();
      progress.done(`Restored "${meta.name}" (${this.db.size} vectors)`, { current: this.db.size, total: this.db.size });
      return meta;
    });
  }

  async deleteSnapshot(id: string, options: { force?: boolean } = {}): Promise<void> {
    await this.enter();
    await this.snapshots.delete(id, options);
  }

  async verifySnapshot(id: string, options: LongOperationOptions = {}): Promise<VerifyResult> {
    await this.enter();
    return this.snapshots.verify(id, options);
  }

  async pinSnapshot(id: string, pinned: boolean): Promise<SnapshotMetadata> {
    await this.enter();
    return this.snapshots.pin(id, pinned);
  }

  async updateSnapshot(id: string, changes: { name?: string; note?: string; tags?: string[] }): Promise<SnapshotMetadata> {
    await this.enter();
    return this.snapshots.update(id, changes);
  }

  async compareSnapshots(a: string, b: string, options: CompareSnapshotsOptions = {}): Promise<SnapshotComparison> {
    await this.enter();
    return this.snapshots.compare(a, b, options);
  }

  async readSnapshotPage(id: string, options: { offset?: number; limit?: number; signal?: AbortSignal } = {}): Promise<SnapshotPage> {
    await this.enter();
    return this.snapshots.page(id, options.offset ?? 0, options.limit ?? 50, options.signal);
  }

  // ---- export / import --------------------------------------------------------------------

  async export(options: ExportOptions): Promise<ExportResult> {
    if (!options || typeof options.path !== 'string' || options.path === '') {
      throw new VecSnapError('INVALID_ARGUMENT', 'export() needs a path to write to.');
    }
    return this.exclusive(async () => {
      const format = checkFormat(options.format ?? this.options.format);
      const compression = this.resolveCompression(options.compress);
      const target = path.resolve(options.path);
      const progress = new ProgressReporter('export', options.onProgress);
      const written = await writeDatasetFile(target, this.datasetToWrite(format, compression, progress, options.signal, { exportedAt: Date.now() }));
      progress.done(`Exported ${written.count} vectors`, { current: written.count, total: written.count });
      return {
        path: target,
        format,
        compression,
        fileSize: written.bytes,
        checksum: written.sha256,
        contentChecksum: written.contentChecksum,
        vectorCount: written.count,
      };
    });
  }

  /** Exports one snapshot (byte copy, or converted to another format/compression). */
  async exportSnapshot(id: string, options: ExportSnapshotOptions): Promise<SnapshotExportResult> {
    if (!options || typeof options.path !== 'string' || options.path === '') {
      throw new VecSnapError('INVALID_ARGUMENT', 'exportSnapshot() needs a path to write to.');
    }
    if (options.format !== undefined) checkFormat(options.format);
    if (options.compression !== undefined) checkCompression(options.compression);
    await this.enter();
    return this.snapshots.exportTo(id, options);
  }

  async import(options: ImportOptions): Promise<ImportResult> {
    if (!options || typeof options.path !== 'string' || options.path === '') {
      throw new VecSnapError('INVALID_ARGUMENT', 'import() needs the path of a file to read.');
    }
    return this.exclusive(async () => {
      if (options.format !== undefined) checkFormat(options.format);
      const file = path.resolve(options.path);
      const clear = options.clear ?? false;
      const progress = new ProgressReporter('import', options.onProgress);
      const read = await readDatasetIntoNewDb(file, {
        ...(options.verifyChecksum !== undefined ? { verifyChecksum: options.verifyChecksum } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        progress,
        label: 'Importing',
        // A merge of another dimension is refused from the header, before the body is read.
        checkHeader: (header) => {
          if (!clear && this.db.size > 0 && header.dimension !== this.db.dimension) {
            throw dimensionMismatch(file, header.dimension, this.db.dimension);
          }
        },
      });
      const imported = read.db.size;
      if (clear || this.db.size === 0) {
        this.db.replaceContents(read.db);
        this.db.markNeedsFullSave();
      } else {
        this.db.mergeFrom(read.db);
      }
      progress.done(`Imported ${imported} vectors`, { current: imported, total: imported });
      return { path: file, format: read.format, compression: read.compression, imported, count: this.db.size, legacy: read.legacy };
    });
  }

  /** What a file holds (format, compression, header), optionally verifying all of it. */
  async inspectFile(file: string, options: LongOperationOptions & { verify?: boolean } = {}): Promise<FileInspection> {
    await this.enter();
    return inspectDatasetFile(path.resolve(file), options);
  }

  // ---- auto-save / shutdown ---------------------------------------------------------------

  get autoSaveActive(): boolean {
    return this.autoSaver.active;
  }

  /** The auto-saver's state (interval, last save, last error), for status displays. */
  get autoSave(): AutoSaver {
    return this.autoSaver;
  }

  startAutoSave(intervalMs: number = this.options.autoSaveInterval): void {
    if (this.closed) throw new VecSnapError('BUSY', 'This VecSnap instance has been shut down.');
    this.autoSaver.start(intervalMs);
    this.options.autoSaveInterval = intervalMs;
  }

  stopAutoSave(): void {
    this.autoSaver.stop();
  }

  /** Whether auto-save (and shutdown) write incremental saves or full ones. */
  setIncremental(incremental: boolean): void {
    this.options.incremental = incremental;
  }

  /** Stops auto-save, waits for running work, saves unsaved changes, then refuses new work. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.stopAutoSave();
    await this.autoSaver.settled();
    await this.ready;
    await this.queue.idle();
    await this.store.laterWritten();
    try {
      if (this.db.hasChanges()) {
        if (this.options.incremental) await this.saveIncremental();
        else await this.save();
      }
    } finally {
      this.closed = true;
    }
  }
}

function dimensionMismatch(file: string, fileDim: number, dbDim: number): VecSnapError {
  return new VecSnapError(
    'DIMENSION_MISMATCH',
    `${path.basename(file)} holds vectors of dimension ${fileDim} but the database has dimension ${dbDim}; import it with "clear" to replace the database.`,
  );
}

