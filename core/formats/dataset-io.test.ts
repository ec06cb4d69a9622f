import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { busyThreadPool, codeOf, makeDb, tempDir } from '../test-helpers/fixtures.js';
import type { Compression, Format } from '../types.js';
import { writeDatasetFile } from './dataset-io.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

const CASES: Array<[Format, Compression]> = [
  ['json', 'none'],
  ['json', 'gzip'],
  ['binary', 'none'],
  ['binary', 'brotli'],
  ['sqlite', 'none'],
  ['sqlite', 'gzip'],
];

describe('writeDatasetFile under abort', () => {
  // A write stream opens its file in the background; an abort that landed before that open
  // finished used to leave the temp file behind, created after the clean-up had removed it.
  for (const [format, compression] of CASES) {
    it(`leaves no file at all whenever the abort lands (${format}+${compression})`, async () => {
      const db = makeDb(400, 8, 3);
      const header = { dimension: 8, metric: db.metric, count: db.size, createdAt: 1 };
      for (let round = 0; round < 12; round++) {
        // Every few rounds the thread pool is busy, so the temp file's open waits in its queue.
        const busy = round % 3 === 0 ? busyThreadPool(100_000) : undefined;
        const controller = new AbortController();
        const abortAfter = round % 4; // 0: before the first chunk is even asked for
        if (abortAfter === 0) controller.abort();
        let chunks = 0;
        const target = path.join(dir, `out-${round}`);
        const code = await codeOf(
          writeDatasetFile(target, {
            format,
            compression,
            header,
            chunks: db.readChunks(50),
            signal: controller.signal,
            onEntries: () => {
              if (++chunks === abortAfter) controller.abort();
            },
          }),
        );
        expect(code).toBe('ABORTED');
        await busy;
        expect(readdirSync(dir)).toEqual([]);
      }
    });
  }
});
