import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VectorDB, DatabasePersistence, generateSampleData } from '../../core/index.js';
import { expect, test, waitForJob } from '../fixtures.js';
import { seedSample } from '../seed.js';

test.use({ seed: { run: (dir) => seedSample(dir, { count: 1200, dimension: 16, snapshots: 1 }) } });

// SPEC §6 story 1: see the database, its unsaved changes; save (full or incremental); auto-save.
test('shows the open database, marks unsaved changes, saves them, and switches auto-save on', async ({ app }) => {
  const { page, dataDir } = app;
  const db = page.getByRole('region', { name: 'Database' });
  await expect(db).toContainText(dataDir);
  await expect(db).toContainText('1,200');
  await expect(db).toContainText('16');
  await expect(db).toContainText('cosine');
  await expect(db).toContainText('All changes saved');

  // Import (merge) a file with 50 new vectors: the database now has unsaved changes.
  const extra = new VectorDB({ dimension: 16 });
  extra.insertBatch(generateSampleData({ count: 50, dimension: 16, seed: 7 }).map((e) => ({ ...e, id: `extra-${e.id}` })));
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'vecsnap-extra-'));
  const file = path.join(scratch, 'extra.bin');
  await new DatabasePersistence(extra, { baseDir: scratch }).export({ path: file, format: 'binary' });
  // The browser's file picker: hand it the file.
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Import…' }).click();
  await (await chooser).setFiles({ name: 'extra.bin', mimeType: 'application/octet-stream', buffer: readFileSync(file) });
  const preview = page.getByRole('dialog', { name: 'Import preview' });
  await expect(preview).toContainText('Verified');
  await preview.getByRole('button', { name: 'Import' }).click();
  await waitForJob(page, 'Import');
  await expect(db).toContainText('1,250');
  await expect(db).toContainText('Unsaved changes');
  await app.screenshot('database-unsaved');

  await db.getByRole('button', { name: 'Save incremental' }).click();
  await waitForJob(page, 'Incremental save');
  await expect(db).toContainText('All changes saved');

  // What is on disk (base + incremental chain) is what the app shows.
  const loaded = new VectorDB({ dimension: 16 });
  await new DatabasePersistence(loaded, { baseDir: dataDir }).load();
  expect(loaded.size).toBe(1250);
  expect(loaded.has('extra-doc-000049')).toBe(true);

  await db.getByLabel('Auto-save interval (seconds)').fill('2');
  await db.getByRole('checkbox', { name: 'Auto-save' }).check();
  await expect(db.getByRole('checkbox', { name: 'Auto-save' })).toBeChecked();
  // The setting reaches disk once the server has handled it: poll the file.
  await expect
    .poll(() => {
      try {
        return JSON.parse(readFileSync(path.join(dataDir, 'vecsnap.json'), 'utf8')).autoSave;
      } catch {
        return undefined;
      }
    })
    .toMatchObject({ enabled: true, intervalMs: 2000 });
  await app.screenshot('database-auto-save');
});
