import { VecSnapError, isVecSnapError, toVecSnapError } from './errors.js';

export interface AutoSaveHooks {
  /** Whether there is anything to save. */
  due: () => boolean;
  /** Performs one save; returns what it wrote (null: nothing). */
  save: () => Promise<string | null>;
  onSaved?: (path: string) => void;
  onError?: (error: VecSnapError) => void;
}

/**
 * Saves on an interval, only when something changed. The next timer is armed only after the
 * current save has ended, so two auto-saves never overlap however slow the disk is.
 */
export class AutoSaver {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  intervalMs = 0;
  lastSavedAt: number | undefined;
  lastError: VecSnapError | undefined;

  constructor(private readonly hooks: AutoSaveHooks) {}

  get active(): boolean {
    return this.timer !== undefined;
  }

  start(intervalMs: number): void {
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new VecSnapError('INVALID_ARGUMENT', 'Auto-save needs an interval above 0 ms (autoSaveInterval).');
    }
    this.stop();
    this.intervalMs = intervalMs;
    const tick = (): void => {
      this.current = this.once().finally(() => {
        this.current = undefined;
        if (this.timer !== undefined) this.arm(tick);
      });
    };
    this.arm(tick);
  }

  private arm(tick: () => void): void {
    this.timer = setTimeout(tick, this.intervalMs);
    // An auto-save timer alone must not keep a script alive; shutdown() saves what is left.
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves when a save that is running now has ended. */
  async settled(): Promise<void> {
    await this.current;
  }

  private async once(): Promise<void> {
    if (!this.hooks.due()) return;
    try {
      const written = await this.hooks.save();
      this.lastSavedAt = Date.now();
      this.lastError = undefined;
      if (written) this.hooks.onSaved?.(written);
    } catch (err) {
      const error = isVecSnapError(err) ? err : toVecSnapError(err, 'Auto-saving');
      this.lastError = error;
      this.hooks.onError?.(error);
    }
  }
}
