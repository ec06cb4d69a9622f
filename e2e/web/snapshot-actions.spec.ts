import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { detectFile } from '../../core/index.js';
import { expect, test, waitForJob } from '../fixtures.js';
import { seedSample } from '../seed.js';

test.use({ seed: { run: (dir) => seedSample(dir, { count: 900, dimension: 8, snapshots: 3 }) } });

// SPEC §6 story 3: create, restore (confirmation, safety snapshot, undo), delete (confirmation,
// pinned protected), verify, pin.
test('creates a snapshot with every option, restores one and undoes it, deletes one', async ({ app }) => {
  const { page, dataDir } = app;
  const table = page.getByRole('table', { name: 'Snapshots' });
  const rows = table.locator('tbody tr');
  const db = page.getByRole('region', { name: 'Database' });
  await expect(db).toContainText('890');

  await page.getByRole('button', { name: 'Create snapshot' }).click();
  const create = page.getByRole('dialog', { name: 'Create snapshot' });
  await create.getByLabel('Name').fill('Before re-embedding');
  await create.getByLabel('Note').fill('e5-small → e5-large');
  await create.getByLabel('Tags').fill('model, weekly');
  await create.getByLabel('Format').selectOption('sqlite');
  await create.getByLabel('Compression').selectOption('gzip');
  await app.screenshot('create-snapshot-dialog');
  await create.getByRole('button', { name: 'Create' }).click();
  await waitForJob(page, 'Snapshot "Before re-embedding"');
  const created = rows.filter({ hasText: 'Before re-embedding' });
  await expect(created).toContainText('e5-small → e5-large');
  await expect(created).toContainText('weekly');
  await expect(created).toContainText('sqlite');
  await expect(created).toContainText('gzip');
  const file = readdirSync(path.join(dataDir, 'snapshots')).find((n) => n.endsWith('.sqlite.gz'))!;
  expect(await detectFile(path.join(dataDir, 'snapshots', file))).toEqual({ format: 'sqlite', compression: 'gzip' });

  // Restore the oldest: the confirmation says what will change.
  const initial = rows.filter({ hasText: 'Initial import' });
  await initial.getByRole('button', { name: 'Restore' }).click();
  const confirm = page.getByRole('dialog', { name: 'Restore snapshot' });
  await expect(confirm).toContainText('890');
  await expect(confirm).toContainText('300');
  await expect(confirm).toContainText('safety snapshot');
  await app.screenshot('restore-confirmation');
  await confirm.getByRole('button', { name: 'Restore' }).click();
  await waitForJob(page, 'Restore "Initial import"');
  await expect(db).toContainText('300');
  await expect(rows.filter({ hasText: 'Before restoring' })).toHaveCount(1);
  await page.getByRole('button', { name: 'Undo restore' }).click();
  await expect(db).toContainText('890');

  // Delete: confirmation; the snapshot's files are gone from disk.
  const nightly = rows.filter({ hasText: 'Nightly' });
  await nightly.getByRole('button', { name: 'Delete' }).click();
  const del = page.getByRole('dialog', { name: 'Delete snapshot' });
  await expect(del).toContainText('Nightly');
  await del.getByRole('button', { name: 'Cancel' }).click();
  await expect(nightly).toHaveCount(1);
  await nightly.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Delete snapshot' }).getByRole('button', { name: 'Delete' }).click();
  await expect(nightly).toHaveCount(0);
  const remaining = readdirSync(path.join(dataDir, 'snapshots')).filter((n) => n.endsWith('.meta.json'));
  expect(remaining).toHaveLength(4); // 3 - 1 + created + safety

  await created.getByRole('button', { name: 'Verify' }).click();
  await waitForJob(page, 'Verify "Before re-embedding"');
  await expect(created).toContainText('Verified');
  await created.getByRole('button', { name: 'Pin' }).click();
  await expect(created.getByRole('button', { name: 'Delete' })).toBeDisabled();
  expect(existsSync(path.join(dataDir, 'snapshots', file))).toBe(true);
  await app.screenshot('snapshot-actions-done');
});
