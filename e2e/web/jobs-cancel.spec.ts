import { readdirSync } from 'node:fs';
import { expect, test, waitForJob } from '../fixtures.js';
import { seedLarge } from '../seed.js';

test.use({ seed: { run: (dir) => seedLarge(dir, 200_000, 32) } });

// SPEC §6 story 7: every long operation shows progress, throughput and time left, and can be
// cancelled; a cancelled job leaves nothing half-written and says so.
test('an export of 200,000 vectors shows its progress and, cancelled at ~30%, leaves no file', async ({ app }) => {
  const { page, exportsDir } = app;
  await expect(page.getByRole('region', { name: 'Database' })).toContainText('200,000');
  await page.getByRole('button', { name: 'Export…' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Export database' });
  await dialog.getByLabel('Format').selectOption('json');
  await dialog.getByLabel('Compression').selectOption('gzip');
  await dialog.getByLabel('File name').fill('big.json.gz');
  await dialog.getByRole('button', { name: 'Export' }).click();
  const job = page.getByRole('region', { name: 'Jobs' }).getByRole('listitem').filter({ hasText: 'Export database' });
  const bar = job.getByRole('progressbar', { name: 'Export database' });
  await expect(async () => {
    const now = Number(await bar.getAttribute('aria-valuenow'));
    expect(now).toBeGreaterThanOrEqual(30);
  }).toPass({ timeout: 60_000, intervals: [50] });
  await expect(job).toContainText(/items\/s|B\/s/);
  await expect(job).toContainText(/left/);
  await app.screenshot('job-progress');
  await job.getByRole('button', { name: 'Cancel' }).click();
  await waitForJob(page, 'Export database', 'Cancelled');
  await app.screenshot('job-cancelled');
  expect(readdirSync(exportsDir)).toEqual([]);
});
