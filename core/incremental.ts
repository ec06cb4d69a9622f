import { promises as fs, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { VecSnapError, throwIfAborted, toVecSnapError } from './errors.js';
import { removeQuietly, writeFileAtomicWithStat } from './io/atomic-write.js';
import { openDatasetFile, writeDatasetFile } from './formats/dataset-io.js';
import type { Compression, Format, LongOperationOptions } from './types.js';
import type { ChangeSet, VectorDB } from './vector-db.js';

/** The full save a chain of deltas applies to. */
export interface ChainBase {
  /** Path relative to the base folder when inside it, else absolute. */
  file: string;
  format: Format;
  compression: Compression;
  contentChecksum: string;
  /**
   * SHA-256 of the base file's bytes. Saves before 2026-12-04 recorded it; nothing read it, and
   * computing it cost every save a second pass over its bytes, so saves no longer do.
   */
  sha256?: string;
  bytes: number;
  count: number;
  savedAt: number;
}

export interface ChainDelta {
  file: string;
  seq: number;
  /** SHA-256 of the delta file's bytes: as ChainBase.sha256, recorded before 2026-12-04 only. */
  sha256?: string;
  bytes: number;
  upserts: number;
  deletes: number;
  createdAt: number;
}

export interface ChainState {
  version: 1;
  base: ChainBase;
  deltas: ChainDelta[];
}

/** When the deltas together reach this share of the base, the next incremental save is a full one. */
const COMPACT_RATIO = 0.5;
const MAX_DELTAS = 64;
const DELTA_KIND = 'vecsnap-delta';

/**
 * Which file, and which version of it. ctime changes with every write, rename and utimes, so a
 * same-size replacement that reuses a freed inode number within one mtime tick still differs.
 */
function fileStamp(stat: BigIntStats): string {
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
}

/**
 * `<baseDir>/incremental/chain.json` + `NNNNNN.delta`: the changes since the last full save. Each
 * delta is a VecSnap binary file holding only the upserted entries, with the deleted ids in its
 * header; chain.json names the base by content checksum, so deltas never apply to a newer base
 * written after them (a crash between the base's rename and the chain reset is harmless).
 */
export class IncrementalChain {
  readonly dir: string;
  private readonly chainFile: string;
  /** What chain.json held when this instance last wrote or read it, and that file's identity. */
  private known: { state: ChainState; stamp: string } | undefined;

  constructor(private readonly baseDir: string) {
    this.dir = path.join(baseDir, 'incremental');
    this.chainFile = path.join(this.dir, 'chain.json');
  }

  relative(file: string): string {
    const rel = path.relative(this.baseDir, file);
    return rel.startsWith('..') || path.isAbsolute(rel) ? path.resolve(file) : rel;
  }

  resolve(file: string): string {
    return path.resolve(this.baseDir, file);
  }

  /**
   * The chain, as chain.json holds it. An incremental save reads it first; right after a full
   * save or a delta that read cost 1–12 ms (four file-system round trips queued behind the
   * write-back of the save). So the state this instance last wrote or read is kept with the
   * file's identity, and reused while one stat finds the same file: another writer's rename
   * brings a new inode, an edit in place a new mtime and ctime. (A network file system may serve
   * a stat from its attribute cache for a few seconds; two processes saving into one folder at
   * once are not coordinated by VecSnap in any case.)
   */
  async read(): Promise<ChainState | null> {
    let stamp: string;
    try {
      stamp = fileStamp(await fs.stat(this.chainFile, { bigint: true }));
    } catch (err) {
      this.known = undefined;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw toVecSnapError(err, `Reading ${this.chainFile}`);
    }
    if (this.known?.stamp === stamp) return structuredClone(this.known.state);
    this.known = undefined;
    let text: string;
    try {
      // Stamp and text come from one open file, so the pair always describes the same bytes.
      const handle = await fs.open(this.chainFile, 'r');
      try {
        stamp = fileStamp(await handle.stat({ bigint: true }));
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw toVecSnapError(err, `Reading ${this.chainFile}`);
    }
    let state: ChainState;
    try {
      state = JSON.parse(text) as ChainState;
      if (state.version !== 1 || !state.base || !Array.isArray(state.deltas)) throw new Error('bad shape');
    } catch {
      throw new VecSnapError(
        'CORRUPT_FILE',
        `The incremental chain ${this.chainFile} is damaged; the changes it lists cannot be applied.`,
      );
    }
    this.known = { state: structuredClone(state), stamp };
    return state;
  }

  /** Replaces chain.json atomically and remembers what it now holds, stamped by its writer. */
  private async write(state: ChainState): Promise<void> {
    this.known = undefined;
    const stat = await writeFileAtomicWithStat(this.chainFile, JSON.stringify(state, null, 2) + '\n');
    this.known = { state: structuredClone(state), stamp: fileStamp(stat) };
  }

  /** Starts a new chain on a fresh full save and removes the deltas of the old one. */
  async reset(base: ChainBase): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    await this.write({ version: 1, base, deltas: [] });
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) if (name.endsWith('.delta')) await removeQuietly(path.join(this.dir, name));
  }

  shouldCompact(chain: ChainState): boolean {
    const deltaBytes = chain.deltas.reduce((sum, d) => sum + d.bytes, 0);
    return chain.deltas.length >= MAX_DELTAS || deltaBytes > chain.base.bytes * COMPACT_RATIO;
  }

  /** Writes one delta holding `changes` and appends it to the chain. */
  async append(
    chain: ChainState,
    db: VectorDB,
    changes: ChangeSet,
    batchSize: number,
    options: LongOperationOptions & { onEntries?: (n: number) => void; onBytes?: (n: number) => void },
  ): Promise<{ path: string; delta: ChainDelta }> {
    const seq = (chain.deltas.at(-1)?.seq ?? 0) + 1;
    const file = path.join(this.dir, `${String(seq).padStart(6, '0')}.delta`);
    // Moved ids are deleted first so that re-applying puts them at the end, as in the live db.
    const deleted = [...changes.deleted, ...changes.moved];
    const upsertIds = [...changes.added, ...changes.changed];
    const written = await writeDatasetFile(file, {
      format: 'binary',
      compression: 'none',
      header: {
        dimension: db.dimension,
        metric: db.metric,
        count: upsertIds.length,
        createdAt: Date.now(),
        metadata: { kind: DELTA_KIND, seq, baseContentChecksum: chain.base.contentChecksum, deleted },
      },
      chunks: db.readChunksFor(upsertIds, batchSize, { recycle: true }),
      // Nothing reads a delta's file hash either: applyTo checks its content checksum.
      fileChecksum: false,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onEntries ? { onEntries: options.onEntries } : {}),
      ...(options.onBytes ? { onBytes: options.onBytes } : {}),
    });
    const delta: ChainDelta = {
      file: path.basename(file),
      seq,
      bytes: written.bytes,
      upserts: written.count,
      deletes: deleted.length,
      createdAt: Date.now(),
    };
    try {
      await this.write({ ...chain, deltas: [...chain.deltas, delta] });
    } catch (err) {
      await removeQuietly(file);
      throw err;
    }
    return { path: file, delta };
  }

  /** Applies every delta of `chain` to `target` (a fresh database holding the base). */
  async applyTo(chain: ChainState, target: VectorDB, options: LongOperationOptions & { verifyChecksum?: boolean }): Promise<number> {
    let applied = 0;
    for (const delta of chain.deltas) {
      throwIfAborted(options.signal, 'Loading');
      const file = path.join(this.dir, delta.file);
      const dataset = await openDatasetFile(file, {
        verifyChecksum: options.verifyChecksum ?? true,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      try {
        const meta = dataset.header.metadata;
        if (dataset.format !== 'binary' || meta?.kind !== DELTA_KIND || !Array.isArray(meta.deleted)) {
          throw new VecSnapError('CORRUPT_FILE', `The incremental file ${file} is not a VecSnap delta.`);
        }
        if (meta.baseContentChecksum !== chain.base.contentChecksum) {
          throw new VecSnapError('CORRUPT_FILE', `The incremental file ${file} belongs to a different full save.`);
        }
        if (dataset.header.dimension !== target.dimension) {
          throw new VecSnapError(
            'DIMENSION_MISMATCH',
            `The incremental file ${file} has dimension ${dataset.header.dimension}, the saved database ${target.dimension}.`,
          );
        }
        for (const id of meta.deleted as unknown[]) if (typeof id === 'string') target.delete(id);
        for await (const chunk of dataset.chunks) target.insertChunk(chunk, true);
      } finally {
        await dataset.close();
      }
      applied++;
    }
    return applied;
  }
}
