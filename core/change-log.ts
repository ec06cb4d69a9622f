/** What changed since the last mark, as persistence needs it for incremental saves. */
export interface ChangeSet {
  added: Set<string>;
  changed: Set<string>;
  deleted: Set<string>;
  /**
   * The subset of `changed` that was deleted and inserted again: it now sits at the end of the
   * insertion order, so a delta must delete it before upserting it to reproduce that order.
   */
  moved: Set<string>;
  /** Set by clear() or a wholesale replace: no delta can describe it, a full save is due. */
  needsFullSave: boolean;
}

export interface ChangeCounts {
  added: number;
  changed: number;
  deleted: number;
  needsFullSave: boolean;
}

type ChangeKind = 'added' | 'changed' | 'moved' | 'deleted';
export type ChangeEvent = 'insert' | 'update' | 'delete';

/**
 * The net change of every id since the last mark: an id inserted and deleted again leaves no
 * trace, one deleted and inserted again is 'moved' (its position changed).
 */
export class ChangeLog {
  private log = new Map<string, ChangeKind>();
  private fullSaveDue = false;

  get size(): number {
    return this.log.size;
  }

  record(id: string, event: ChangeEvent): void {
    if (this.fullSaveDue) return;
    const prev = this.log.get(id);
    if (event === 'insert') {
      // An id that existed at the mark and comes back lands at the end of the order: 'moved'.
      this.log.set(id, prev === undefined || prev === 'added' ? 'added' : 'moved');
    } else if (event === 'update') {
      if (prev === undefined) this.log.set(id, 'changed');
    } else if (prev === 'added') {
      this.log.delete(id);
    } else {
      this.log.set(id, 'deleted');
    }
  }

  hasChanges(): boolean {
    return this.fullSaveDue || this.log.size > 0;
  }

  counts(): ChangeCounts {
    let added = 0;
    let changed = 0;
    let deleted = 0;
    for (const kind of this.log.values()) {
      if (kind === 'added') added++;
      else if (kind === 'deleted') deleted++;
      else changed++;
    }
    return { added, changed, deleted, needsFullSave: this.fullSaveDue };
  }

  take(): ChangeSet {
    const set: ChangeSet = {
      added: new Set(),
      changed: new Set(),
      deleted: new Set(),
      moved: new Set(),
      needsFullSave: this.fullSaveDue,
    };
    for (const [id, kind] of this.log) {
      if (kind === 'moved') {
        set.moved.add(id);
        set.changed.add(id);
      } else {
        set[kind].add(id);
      }
    }
    this.reset(false);
    return set;
  }

  /** Puts an older, taken set back underneath the changes recorded since. */
  restore(set: ChangeSet): void {
    const newer = this.log;
    this.log = new Map();
    for (const id of set.added) this.log.set(id, 'added');
    for (const id of set.changed) this.log.set(id, set.moved.has(id) ? 'moved' : 'changed');
    for (const id of set.deleted) this.log.set(id, 'deleted');
    const newerFullSave = this.fullSaveDue;
    this.fullSaveDue = false;
    for (const [id, kind] of newer) {
      if (kind === 'added') this.record(id, 'insert');
      else if (kind === 'changed') this.record(id, 'update');
      else if (kind === 'moved') {
        this.record(id, 'delete');
        this.record(id, 'insert');
      } else this.record(id, 'delete');
    }
    this.fullSaveDue = newerFullSave || set.needsFullSave;
    if (this.fullSaveDue) this.log = new Map();
  }

  reset(needsFullSave: boolean): void {
    this.log = new Map();
    this.fullSaveDue = needsFullSave;
  }
}
