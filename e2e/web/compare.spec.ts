import { expect, test, waitForJob } from '../fixtures.js';
import { seedSample } from '../seed.js';

test.use({ seed: { run: (dir) => seedSample(dir, { count: 900, dimension: 8, snapshots: 3 }) } });

// SPEC §6 story 4: two snapshots side by side — sizes as bars, checksums, counts, the content diff.
test('compares two snapshots with exact added / removed / changed counts and samples', async ({ app }) => {
  const { page } = app;
  const table = page.getByRole('table', { name: 'Snapshots' });
  const compare = page.getByRole('button', { name: 'Compare', exact: true });
  await expect(compare).toBeDisabled();
  await table.getByLabel('Select Added support articles for comparison').check();
  await expect(compare).toBeDisabled();
  await table.getByLabel('Select Nightly for comparison').check();
  await expect(compare).toBeEnabled();
  await compare.click();
  await waitForJob(page, 'Compare snapshots');
  const view = page.getByRole('region', { name: 'Comparison' });
  await expect(view).toContainText('Added support articles');
  await expect(view).toContainText('Nightly');
  await expect(view.getByRole('img', { name: /^Size of Nightly: / })).toBeVisible();
  await expect(view.getByRole('img', { name: /^Size of Added support articles: / })).toBeVisible();
  await expect(view).toContainText('Different content');
  // Between these two sample snapshots: 300 added, 5 removed, 5 metadata edits, 585 unchanged.
  for (const [label, n] of [['Added', '300'], ['Removed', '5'], ['Changed', '5'], ['Unchanged', '585']] as const) {
    await expect(view.getByText(label, { exact: true }).locator('..')).toContainText(n);
  }
  await expect(view).toContainText('doc-000600');
  await expect(view).toContainText('doc-000002');
  await app.screenshot('compare-view');
  await view.getByRole('button', { name: 'Close comparison' }).click();
  await expect(view).toBeHidden();
});
