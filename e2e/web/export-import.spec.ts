import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabasePersistence, VectorDB, detectFile } from '../../core/index.js';
import { expect, test, waitForJob } from '../fixtures.js';
import { seedSample } from '../seed.js';

test.use({ seed: { run: (dir) => seedSample(dir, { count: 900, dimension: 8, snapshots: 3 }) } });

async function load(file: string): Promise<VectorDB> {
  const db = new VectorDB({ dimension: 8 });
  await new DatabasePersistence(db, { baseDir: mkdtempSync(path.join(os.tmpdir(), 'vecsnap-load-')) }).import({ path: file, clear: true });
  return db;
}

function sameContent(a: VectorDB, b: VectorDB): void {
  expect([...a.ids()]).toEqual([...b.ids()]);
  for (const e of b.entries()) {
    const x = a.get(e.id)!;
    expect(Buffer.from(x.vector.buffer).equals(Buffer.from(e.vector.buffer))).toBe(true);
    expect(x.metadata).toEqual(e.metadata);
  }
}

// SPEC §6 story 6: export the database or a snapshot choosing format and compression; import
// through the file picker or by dragging a file onto the window, with a preview first.
test('exports the database and a snapshot, and imports by drag-and-drop after a preview', async ({ app }) => {
  const { page, dataDir, exportsDir } = app;
  await page.getByRole('button', { name: 'Export…' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Export database' });
  await dialog.getByLabel('Format').selectOption('binary');
  await dialog.getByLabel('Compression').selectOption('gzip');
  await expect(dialog.getByLabel('File name')).toHaveValue(/\.bin\.gz$/);
  await dialog.getByLabel('File name').fill('all-vectors.bin.gz');
  await app.screenshot('export-dialog');
  const download = page.waitForEvent('download');
  await dialog.getByRole('button', { name: 'Export' }).click();
  await waitForJob(page, 'Export database');
  const exported = path.join(exportsDir, 'all-vectors.bin.gz');
  expect(await detectFile(exported)).toEqual({ format: 'binary', compression: 'gzip' });
  const saved = await load(path.join(dataDir, 'database.bin'));
  sameContent(await load(exported), saved);
  const got = await download;
  expect(got.suggestedFilename()).toBe('all-vectors.bin.gz');
  expect(readFileSync(await got.path()).equals(readFileSync(exported))).toBe(true);

  const row = page.getByRole('table', { name: 'Snapshots' }).locator('tbody tr').filter({ hasText: 'Initial import' });
  await row.getByRole('button', { name: 'Export…' }).click();
  const snapDialog = page.getByRole('dialog', { name: 'Export “Initial import”' });
  await snapDialog.getByLabel('Format').selectOption('json');
  await snapDialog.getByLabel('Compression').selectOption('none');
  await snapDialog.getByLabel('File name').fill('initial.json');
  await snapDialog.getByRole('button', { name: 'Export' }).click();
  await waitForJob(page, 'Export "Initial import"');
  const json = path.join(exportsDir, 'initial.json');
  expect(await detectFile(json)).toEqual({ format: 'json', compression: 'none' });
  expect((await load(json)).size).toBe(300);

  // Drag the JSON file onto the window: a real DataTransfer with a File in it.
  const dataTransfer = await page.evaluateHandle(
    ({ name, base64 }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { type: 'application/json' }));
      return dt;
    },
    { name: 'initial.json', base64: readFileSync(json).toString('base64') },
  );
  await page.dispatchEvent('body', 'dragenter', { dataTransfer });
  await page.dispatchEvent('body', 'dragover', { dataTransfer });
  await expect(page.getByText('Drop a file to import')).toBeVisible();
  await app.screenshot('drag-and-drop-overlay');
  await page.dispatchEvent('body', 'drop', { dataTransfer });
  const preview = page.getByRole('dialog', { name: 'Import preview' });
  await expect(preview).toContainText('json');
  await expect(preview).toContainText('300');
  await expect(preview).toContainText('Verified');
  await preview.getByLabel('Replace the current database').check();
  await app.screenshot('import-preview');
  await preview.getByRole('button', { name: 'Import' }).click();
  await waitForJob(page, 'Import');
  await expect(page.getByRole('region', { name: 'Database' })).toContainText('300');
  expect(existsSync(exported)).toBe(true);
});
