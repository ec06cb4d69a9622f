import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('the package root', () => {
  it("exposes the SPEC §2 API as `import { VectorDB, DatabasePersistence } from 'vecsnap'` after the build", () => {
    expect(existsSync(path.join(root, 'dist/core/index.js')), 'run `npm run build` first (npm test does)').toBe(true);
    const script = `
      import { VectorDB, DatabasePersistence, VecSnapError, formatFileSize, formatTimestamp, estimateMemoryUsage } from 'vecsnap';
      const db = new VectorDB({ dimension: 3 });
      db.insert({ id: 'a', vector: [1, 2, 3] });
      console.log(JSON.stringify({
        count: db.stats().count,
        persistence: typeof DatabasePersistence,
        error: new VecSnapError('NOT_FOUND', 'x').code,
        size: formatFileSize(1536 * 1024),
        time: formatTimestamp(0),
        mem: estimateMemoryUsage({ vectors: [{ id: 'a', vector: [1, 2, 3] }] }),
      }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({
      count: 1,
      persistence: 'function',
      error: 'NOT_FOUND',
      size: '1.50 MB',
      time: '1970-01-01T00:00:00.000Z',
      mem: 14,
    });
  });
});
