import { test as base, expect, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// The server from source; the page it serves is the built renderer (dist/renderer).
import { startServer, type RunningServer } from '../server/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface App {
  page: Page;
  server: RunningServer;
  dataDir: string;
  exportsDir: string;
  uploadsDir: string;
  /** Saves a screenshot into this test's output folder (kept as evidence of what a person sees). */
  screenshot(name: string): Promise<string>;
}

export interface AppOptions {
  /** Prepares the data folder before the server opens it (an object: a bare function would be taken for a fixture). */
  seed: { run(dataDir: string): Promise<void> } | undefined;
}

export const test = base.extend<AppOptions & { app: App }>({
  seed: [undefined, { option: true }],
  app: async ({ page, seed }, use, testInfo) => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vecsnap-e2e-'));
    if (seed) await seed.run(dataDir);
    const server = await startServer({ dataDir, staticDir: path.join(root, 'dist', 'renderer') });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    await page.goto(server.url);
    await expect(page.getByRole('heading', { name: 'VecSnap' })).toBeVisible();
    const transfers = path.join(dataDir, 'transfers');
    await use({
      page,
      server,
      dataDir,
      exportsDir: path.join(transfers, 'exports'),
      uploadsDir: path.join(transfers, 'uploads'),
      screenshot: async (name) => {
        const file = testInfo.outputPath(`${name}.png`);
        await page.screenshot({ path: file, fullPage: true });
        await testInfo.attach(name, { path: file, contentType: 'image/png' });
        return file;
      },
    });
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
    // A CSP violation or an uncaught error is a defect even when the test's steps passed.
    expect(errors.filter((e) => !e.includes('favicon'))).toEqual([]);
  },
});

export { expect };

/** Waits until the jobs panel shows `label` as ended with `state` ("Done", "Cancelled", "Failed: …"). */
export async function waitForJob(page: Page, label: string | RegExp, state: string | RegExp = 'Done'): Promise<void> {
  const job = page.getByRole('region', { name: 'Jobs' }).getByRole('listitem').filter({ hasText: label }).first();
  await expect(job).toContainText(state, { timeout: 60_000 });
}
