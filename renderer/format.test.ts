import {
  compactJson,
  defaultExportName,
  defaultSnapshotName,
  formatBytes,
  formatCount,
  formatEta,
  formatRelative,
  formatThroughput,
  parseTags,
  safeFileBase,
  vectorPreview,
  withExtension,
} from './format';

describe('display helpers', () => {
  it('formats sizes in 1024 steps with two decimals, like the engine', () => {
    expect(formatBytes(1536 * 1024)).toBe('1.50 MB');
    expect(formatBytes(0)).toBe('0.00 B');
    expect(formatBytes(1023)).toBe('1023.00 B');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.00 GB');
  });

  it('formats counts, throughput and time left', () => {
    expect(formatCount(1990)).toBe('1,990');
    expect(formatThroughput(12.3 * 1024 * 1024, 'B/s')).toBe('12.3 MB/s');
    expect(formatThroughput(3999.6, 'items/s')).toBe('4,000 items/s');
    expect(formatEta(4200)).toBe('about 5 s left');
    expect(formatEta(100)).toBe('about 1 s left');
    expect(formatEta(125_000)).toBe('about 2 min left');
    expect(formatEta(2 * 3600_000)).toBe('about 2 h left');
    expect(formatEta(3600_000 + 10 * 60_000)).toBe('about 1 h 10 min left');
  });

  it('says how long ago something happened', () => {
    const now = Date.UTC(2026, 10, 25, 10, 0, 0);
    expect(formatRelative(now - 5 * 60_000, now)).toBe('5 minutes ago');
    expect(formatRelative(now - 10_000, now)).toBe('just now');
    expect(formatRelative(now - 3 * 3600_000, now)).toBe('3 hours ago');
    expect(formatRelative(now - 26 * 3600_000, now)).toBe('1 day ago');
  });

  it('names export files after format and compression', () => {
    expect(defaultExportName('database', 'binary', 'none')).toBe('database.bin');
    expect(defaultExportName('Initial import', 'json', 'gzip')).toBe('Initial import.json.gz');
    expect(defaultExportName('a/b: c?', 'sqlite', 'brotli')).toBe('a-b- c-.sqlite.br');
    expect(withExtension('database.bin', 'json', 'gzip')).toBe('database.json.gz');
    expect(withExtension('all-vectors.json.gz', 'binary', 'none')).toBe('all-vectors.bin');
    expect(withExtension('notes.txt', 'sqlite', 'none')).toBe('notes.txt.sqlite');
    expect(withExtension('', 'json', 'none')).toBe('export.json');
    expect(safeFileBase('...')).toBe('snapshot');
  });

  it('suggests a snapshot name from the local date and time', () => {
    expect(defaultSnapshotName(new Date(2026, 10, 25, 10, 0))).toBe('Snapshot 2026-11-25 10:00');
  });

  it('splits tags, shows JSON compactly and previews vectors', () => {
    expect(parseTags(' model, weekly ,, ')).toEqual(['model', 'weekly']);
    expect(compactJson({ topic: 'billing', n: 1 })).toBe('{"topic":"billing","n":1}');
    expect(compactJson(undefined)).toBe('');
    expect(vectorPreview([1, 0.123456, -2], 3)).toBe('[1.0000, 0.1235, -2.0000]');
    expect(vectorPreview([0, 1, 2, 3, 4, 5, 6, 7], 384)).toBe('[0.0000, 1.0000, 2.0000, 3.0000, 4.0000, 5.0000, 6.0000, 7.0000, …]');
  });
});
