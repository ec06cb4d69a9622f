import { expect, test, waitForJob } from '../fixtures.js';

// SPEC §6 story 8: the first run has something to look at.
test('an empty data folder offers sample data, which fills the database and the snapshot table', async ({ app }) => {
  const { page } = app;
  const start = page.getByRole('region', { name: 'Get started' });
  await expect(start).toBeVisible();
  await app.screenshot('first-run-empty');
  await start.getByRole('button', { name: 'Generate sample data' }).click();
  await waitForJob(page, 'Generate sample data');
  const db = page.getByRole('region', { name: 'Database' });
  await expect(db).toContainText('2,990');
  await expect(db).toContainText('128');
  await expect(db).toContainText('All changes saved');
  const rows = page.getByRole('table', { name: 'Snapshots' }).getByRole('row');
  await expect(rows.filter({ hasText: 'Initial import' })).toHaveCount(1);
  await expect(rows.filter({ hasText: 'Nightly' })).toHaveCount(1);
  await expect(start).toBeHidden();
  await app.screenshot('first-run-sample-data');
});
