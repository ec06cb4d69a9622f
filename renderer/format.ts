/** Display helpers: numbers, sizes, times and file names as a person reads them. */
import type { Compression, Format, SnapshotMetadata } from '../core/service/contract';

const SIZE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];
const numberFormat = new Intl.NumberFormat('en-US');

/** `1536 * 1024` → `'1.50 MB'`: 1024 steps, two decimals (the engine's `formatFileSize`). */
export function formatBytes(bytes: number, decimals = 2): string {
  if (!Number.isFinite(bytes) || bytes < 0) return `${(0).toFixed(decimals)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(decimals)} ${SIZE_UNITS[unit]}`;
}

/** `1990` → `'1,990'`. */
export function formatCount(n: number): string {
  return numberFormat.format(n);
}

/** `'12.3 MB/s'` for bytes, `'4,000 items/s'` for items. */
export function formatThroughput(value: number, unit: 'B/s' | 'items/s'): string {
  if (unit === 'B/s') return `${formatBytes(value, 1)}/s`;
  return `${formatCount(Math.round(value))} items/s`;
}

/** `'about 5 s left'`, `'about 2 min left'`, `'about 1 h 10 min left'`. */
export function formatEta(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return `about ${seconds} s left`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min left`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `about ${hours} h left` : `about ${hours} h ${rest} min left`;
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'always' });
const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** `'5 minutes ago'`, `'just now'`, `'in 2 hours'` (clock skew). */
export function formatRelative(timestamp: number, now: number = Date.now()): string {
  const seconds = Math.round((timestamp - now) / 1000);
  if (Math.abs(seconds) < 45) return 'just now';
  for (const [unit, size] of STEPS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.trunc(seconds / size), unit);
  }
  return relative.format(seconds < 0 ? -1 : 1, 'minute');
}

/** ISO 8601 (the engine's `formatTimestamp`). */
export function formatIso(timestamp: number): string {
  return new Date(timestamp).toISOString();
}

export function shortChecksum(checksum: string): string {
  return checksum.slice(0, 12);
}

/** The compression a snapshot was stored with (older metadata only says "compressed"). */
export function compressionOf(meta: SnapshotMetadata): Compression | 'compressed' {
  return meta.compression ?? (meta.compressed ? 'compressed' : 'none');
}

const FORMAT_EXT: Record<Format, string> = { json: '.json', binary: '.bin', sqlite: '.sqlite' };
const COMPRESSION_EXT: Record<Compression, string> = { none: '', gzip: '.gz', brotli: '.br' };
const KNOWN_EXT = /(\.(json|bin|sqlite|db))?(\.(gz|br|gzip|brotli))?$/i;

export function extensionFor(format: Format, compression: Compression): string {
  return FORMAT_EXT[format] + COMPRESSION_EXT[compression];
}

/** Replaces a dataset extension (`.json`, `.bin.gz`, …) at the end of `name` by the one for format and compression. */
export function withExtension(name: string, format: Format, compression: Compression): string {
  const base = name.trim().replace(KNOWN_EXT, '');
  return `${base || 'export'}${extensionFor(format, compression)}`;
}

/** A file name from a snapshot name: characters no file system accepts become "-". */
export function safeFileBase(name: string): string {
  // eslint-disable-next-line no-control-regex
  const base = name.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '-').replace(/\s+/g, ' ').trim().replace(/^\.+/, '');
  return base.slice(0, 120) || 'snapshot';
}

/** `'database.bin'`, `'Initial import.json.gz'`. */
export function defaultExportName(base: string, format: Format, compression: Compression): string {
  return `${safeFileBase(base)}${extensionFor(format, compression)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `'Snapshot 2026-11-25 10:00'` in local time. */
export function defaultSnapshotName(date: Date = new Date()): string {
  return `Snapshot ${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** `'a, b ,, c'` → `['a', 'b', 'c']`. */
export function parseTags(text: string): string[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

/** The last segment of a path, for either separator. */
export function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

/** Compact JSON for a table cell. */
export function compactJson(value: unknown): string {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return String(value);
  }
}

/** First numbers of a vector to 4 decimals, with "…" when there are more. */
export function vectorPreview(values: number[], dimension: number): string {
  const shown = values.slice(0, 8).map((v) => v.toFixed(4));
  return `[${shown.join(', ')}${dimension > shown.length ? ', …' : ''}]`;
}
