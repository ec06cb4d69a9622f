import { expect, test } from '../fixtures.js';
import { seedSample } from '../seed.js';

test.use({ seed: { run: (dir) => seedSample(dir, { count: 900, dimension: 8, snapshots: 3 }) } });

// SPEC §6 story 5: a paged look inside a snapshot.
test('pages through the ids, metadata and vector previews of a snapshot', async ({ app }) => {
  const { page } = app;
  const row = page.getByRole('table', { name: 'Snapshots' }).locator('tbody tr').filter({ hasText: 'Nightly' });
  await row.getByRole('button', { name: 'Inspect' }).click();
  const inspector = page.getByRole('region', { name: 'Snapshot contents' });
  await expect(inspector).toContainText('Entries 1–50 of 890');
  const entries = inspector.getByRole('table', { name: 'Entries' });
  await expect(entries.locator('tbody tr')).toHaveCount(50);
  await expect(entries.locator('tbody tr').first()).toContainText('doc-000000');
  await expect(entries.locator('tbody tr').first()).toContainText('"topic"');
  await expect(inspector.getByRole('button', { name: 'Previous page' })).toBeDisabled();
  await inspector.getByRole('button', { name: 'Next page' }).click();
  await expect(inspector).toContainText('Entries 51–100 of 890');
  await expect(entries.locator('tbody tr').first()).not.toContainText('doc-000000');
  await app.screenshot('snapshot-inspector');
  await inspector.getByRole('button', { name: 'Close inspector' }).click();
  await expect(inspector).toBeHidden();
});
