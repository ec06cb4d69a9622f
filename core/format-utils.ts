/** The original module's utilities, with the same output (SPEC §2). */

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** `formatFileSize(1536 * 1024)` → `'1.50 MB'`: 1024 steps, two decimals. */
export function formatFileSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '0.00 B';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)} ${UNITS[unit]}`;
}

/** ISO 8601, as the original. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** The original's `DatabaseState` shape, as far as the estimate needs it. */
export interface DatabaseStateLike {
  vectors?: ArrayLike<{ id?: string; vector?: ArrayLike<number>; metadata?: unknown }>;
  indexState?: unknown;
  options?: { dimension?: number };
  stats?: { count?: number; dimension?: number };
}

/**
 * Estimated bytes a `DatabaseState` takes in memory: float32 vectors, ids as UTF-16, metadata
 * and index state by their JSON length. Never throws for a partial state.
 */
export function estimateMemoryUsage(state: DatabaseStateLike): number {
  const vectors = state?.vectors;
  if (!vectors || typeof vectors.length !== 'number') {
    const count = state?.stats?.count ?? 0;
    const dimension = state?.options?.dimension ?? state?.stats?.dimension ?? 0;
    return count * dimension * 4;
  }
  let bytes = 0;
  for (let i = 0; i < vectors.length; i++) {
    const entry = vectors[i];
    if (!entry) continue;
    bytes += (entry.vector?.length ?? 0) * 4;
    bytes += (entry.id?.length ?? 0) * 2;
    if (entry.metadata !== undefined) bytes += jsonLength(entry.metadata) * 2;
  }
  if (state.indexState !== undefined) bytes += jsonLength(state.indexState);
  return bytes;
}

function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}
