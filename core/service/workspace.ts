import { promises as fs } from 'node:fs';
import path from 'node:path';
import { VecSnapError, toVecSnapError } from '../errors.js';
import { writeJsonAtomic } from '../io/atomic-write.js';
import { DatabasePersistence } from '../persistence.js';
import { checkCompression, checkFormat } from '../save-paths.js';
import type { Compression, Format } from '../types.js';
import { VectorDB } from '../vector-db.js';
import type { WorkspaceInfo } from './contract.js';

export interface WorkspaceSettings {
  format: Format;
  compression: Compression;
  autoSave: { enabled: boolean; intervalMs: number; incremental: boolean };
}

const SETTINGS_FILE = 'vecsnap.json';
export const DEFAULT_DIMENSION = 384;
const DEFAULT_SETTINGS: WorkspaceSettings = {
  format: 'binary',
  compression: 'none',
  autoSave: { enabled: false, intervalMs: 60_000, incremental: true },
};

/** One open data folder: its database, its persistence manager and its settings. */
export class Workspace {
  lastSave: WorkspaceInfo['lastSave'];
  readonly notices: string[] = [];

  private constructor(
    readonly dir: string,
    readonly db: VectorDB,
    readonly persistence: DatabasePersistence,
    public settings: WorkspaceSettings,
  ) {}

  static async open(dir: string, onChange: () => void): Promise<Workspace> {
    const resolved = path.resolve(dir);
    try {
      await fs.mkdir(resolved, { recursive: true });
    } catch (err) {
      throw toVecSnapError(err, `Opening the data folder ${resolved}`);
    }
    const settings = await readSettings(resolved);
    const db = new VectorDB({ dimension: DEFAULT_DIMENSION });
    let workspace: Workspace | undefined;
    const persistence = new DatabasePersistence(db, {
      baseDir: resolved,
      format: settings.format,
      compression: settings.compression,
      incremental: settings.autoSave.incremental,
      maxSnapshots: 50,
      onAutoSave: (file) => {
        if (workspace) workspace.lastSave = { at: Date.now(), path: file, kind: file.endsWith('.delta') ? 'incremental' : 'full' };
        onChange();
      },
      onAutoSaveError: () => onChange(),
    });
    workspace = new Workspace(resolved, db, persistence, settings);
    try {
      await persistence.load();
    } catch (err) {
      const e = toVecSnapError(err, 'Loading the saved database');
      if (e.code !== 'NOT_FOUND') {
        workspace.notices.push(`The saved database could not be loaded (${e.message}) Nothing on disk was changed.`);
      }
    }
    for (const file of persistence.cleanedUp) workspace.notices.push(`Removed the leftover of an interrupted write: ${path.basename(file)}.`);
    if (settings.autoSave.enabled) persistence.startAutoSave(settings.autoSave.intervalMs);
    return workspace;
  }

  async saveSettings(): Promise<void> {
    await writeJsonAtomic(path.join(this.dir, SETTINGS_FILE), this.settings);
  }

  async info(): Promise<WorkspaceInfo> {
    const stats = this.db.stats();
    const listing = await this.persistence.snapshotListing();
    const auto = this.persistence.autoSave;
    const info: WorkspaceInfo = {
      dataDir: this.dir,
      dimension: stats.dimension,
      metric: stats.metric,
      count: stats.count,
      memoryBytes: stats.memoryBytes,
      hasUnsavedChanges: this.db.hasChanges(),
      changes: this.db.changeCounts(),
      format: this.settings.format,
      compression: this.settings.compression,
      autoSave: {
        enabled: this.persistence.autoSaveActive,
        intervalMs: this.settings.autoSave.intervalMs,
        incremental: this.settings.autoSave.incremental,
        ...(auto.lastSavedAt !== undefined ? { lastSavedAt: auto.lastSavedAt } : {}),
        ...(auto.lastError ? { lastError: { code: auto.lastError.code, message: auto.lastError.message } } : {}),
      },
      snapshotCount: listing.snapshots.length,
      notices: [
        ...this.notices,
        ...listing.problems.map((p) => `A snapshot metadata file could not be read and is not listed: ${p}`),
        ...listing.orphans.map((f) => `The snapshots folder holds a data file without metadata (not listed, left untouched): ${f}`),
      ],
    };
    if (this.lastSave) info.lastSave = this.lastSave;
    return info;
  }

  async close(): Promise<void> {
    await this.persistence.shutdown();
  }
}

async function readSettings(dir: string): Promise<WorkspaceSettings> {
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(path.join(dir, SETTINGS_FILE), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(DEFAULT_SETTINGS);
    throw new VecSnapError('CORRUPT_FILE', `The settings file ${path.join(dir, SETTINGS_FILE)} is not valid JSON.`);
  }
  const r = (raw ?? {}) as Partial<WorkspaceSettings>;
  const auto: Partial<WorkspaceSettings['autoSave']> = r.autoSave ?? {};
  return {
    format: r.format ? checkFormat(r.format) : DEFAULT_SETTINGS.format,
    compression: r.compression ? checkCompression(r.compression) : DEFAULT_SETTINGS.compression,
    autoSave: {
      enabled: auto.enabled === true,
      intervalMs: typeof auto.intervalMs === 'number' && auto.intervalMs >= 1000 ? auto.intervalMs : DEFAULT_SETTINGS.autoSave.intervalMs,
      incremental: auto.incremental !== false,
    },
  };
}
