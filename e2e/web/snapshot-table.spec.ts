import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, waitForJob } from '../fixtures.js';
import { seedSample } from '../seed.js';

test.use({ seed: { run: (dir) => seedSample(dir, { count: 900, dimension: 8, snapshots: 3 }) } });

function metas(dataDir: string): { id: string; name: string; checksum: string; file: string }[] {
  const dir = path.join(dataDir, 'snapshots');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.meta.json'))
    .map((n) => JSON.parse(readFileSync(path.join(dir, n), 'utf8')));
}

// SPEC §6 story 2: browse snapshots — columns, sort, filter, copyable checksum, integrity, pinned.
test('lists, sorts and filters snapshots, copies a checksum and shows each integrity state', async ({ app, context }) => {
  const { page, dataDir } = app;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(app.server.url).origin });
  const table = page.getByRole('table', { name: 'Snapshots' });
  for (const column of ['Name', 'Note / tags', 'Created', 'Vectors', 'Dimension', 'Format', 'Compression', 'Size', 'Checksum', 'Integrity', 'Pinned']) {
    await expect(table.getByRole('columnheader', { name: column })).toBeVisible();
  }
  const bodyRows = table.locator('tbody tr');
  await expect(bodyRows).toHaveCount(3);
  // Default: newest first.
  await expect(bodyRows.first()).toContainText('Nightly');
  await table.getByRole('columnheader', { name: 'Name' }).getByRole('button').click();
  await expect(bodyRows.first()).toContainText('Added support articles');
  await expect(table.getByRole('columnheader', { name: 'Name' })).toHaveAttribute('aria-sort', /ascending/);

  await page.getByLabel('Filter snapshots').fill('night');
  await expect(bodyRows).toHaveCount(1);
  await app.screenshot('snapshot-table-filtered');
  await page.getByLabel('Filter snapshots').fill('');
  await expect(bodyRows).toHaveCount(3);

  const nightly = metas(dataDir).find((m) => m.name === 'Nightly')!;
  const row = bodyRows.filter({ hasText: 'Nightly' });
  await expect(row).toContainText(nightly.checksum.slice(0, 12));
  await row.getByRole('button', { name: 'Copy checksum' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(nightly.checksum);
  await expect(row).toContainText('Verified');

  // Damage one snapshot file and remove another's: verify says so, and so does the table.
  const initial = metas(dataDir).find((m) => m.name === 'Initial import')!;
  const file = path.join(dataDir, 'snapshots', initial.file);
  const bytes = readFileSync(file);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  writeFileSync(file, bytes);
  const initialRow = bodyRows.filter({ hasText: 'Initial import' });
  await initialRow.getByRole('button', { name: 'Verify' }).click();
  await waitForJob(page, 'Verify "Initial import"');
  await expect(initialRow).toContainText('Mismatch');

  const added = metas(dataDir).find((m) => m.name === 'Added support articles')!;
  rmSync(path.join(dataDir, 'snapshots', added.file));
  await page.reload();
  await expect(bodyRows.filter({ hasText: 'Added support articles' })).toContainText('Missing file');
  await expect(bodyRows.filter({ hasText: 'Initial import' })).toContainText('Mismatch');

  await row.getByRole('button', { name: 'Pin' }).click();
  await expect(row.getByRole('button', { name: 'Pin' })).toHaveAttribute('aria-pressed', 'true');
  await expect(row.getByRole('button', { name: 'Delete' })).toBeDisabled();
  expect(metas(dataDir).find((m) => m.name === 'Nightly')).toMatchObject({ pinned: true });
  await app.screenshot('snapshot-table-integrity');
});
