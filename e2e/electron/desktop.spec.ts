import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectFile } from '../../core/index.js';
import { seedSample } from '../seed.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

/** The Electron binary, or why there is none — found without ever triggering a download. */
function electronBinary(): { binary?: string; reason?: string } {
  let dir: string;
  try {
    dir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    return { reason: 'the electron package is not installed' };
  }
  const pathFile = path.join(dir, 'path.txt');
  if (!existsSync(pathFile)) return { reason: "Electron's binary was never downloaded (its download server is out of reach on this machine)" };
  const binary = path.join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? { binary } : { reason: `Electron's binary is missing at ${binary}` };
}

const found = electronBinary();
if (!found.binary) console.log(`[electron suite] skipped: ${found.reason}.`);

test.describe('desktop app (Electron)', () => {
  test.skip(!found.binary, `Electron cannot start here: ${found.reason}`);

  let app: ElectronApplication;
  let page: Page;
  let dataDir: string;

  test.beforeEach(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'vecsnap-electron-'));
    await seedSample(dataDir, { count: 600, dimension: 8, snapshots: 3 });
    app = await electron.launch({
      executablePath: found.binary!,
      args: [path.join(root, 'dist/app/electron/main.js')],
      env: { ...process.env, VECSNAP_DATA_DIR: dataDir },
    });
    page = await app.firstWindow();
    await expect(page.getByRole('heading', { name: 'VecSnap' })).toBeVisible();
  });

  test.afterEach(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('File ▸ Export ▸ Database as Binary writes where the (stubbed) save dialog points', async () => {
    const target = path.join(dataDir, 'menu-export.bin');
    await app.evaluate(({ dialog }, file) => {
      dialog.showSaveDialog = (async () => ({ canceled: false, filePath: file })) as typeof dialog.showSaveDialog;
    }, target);
    await app.evaluate(({ Menu }) => {
      const file = Menu.getApplicationMenu()!.items.find((i) => i.label === 'File')!;
      const exportMenu = file.submenu!.items.find((i) => i.label === 'Export')!;
      exportMenu.submenu!.items.find((i) => i.label === 'Database as Binary…')!.click();
    });
    const dialog = page.getByRole('dialog', { name: 'Export database' });
    await expect(dialog.getByLabel('Format')).toHaveValue('binary');
    await dialog.getByRole('button', { name: 'Export' }).click();
    await expect(page.getByRole('region', { name: 'Jobs' })).toContainText('Done');
    expect(await detectFile(target)).toEqual({ format: 'binary', compression: 'none' });
  });

  test('a file dropped on the window is previewed and imported', async () => {
    const file = path.join(dataDir, 'database.bin');
    // A File backed by a real path (as an OS drop gives), then a real drop event carrying it.
    await page.evaluate(() => {
      const input = document.createElement('input');
      input.type = 'file';
      input.id = 'e2e-drop-source';
      input.style.display = 'none';
      document.body.append(input);
    });
    await page.setInputFiles('#e2e-drop-source', file);
    const dataTransfer = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add((document.getElementById('e2e-drop-source') as HTMLInputElement).files![0]!);
      return dt;
    });
    await page.dispatchEvent('body', 'dragenter', { dataTransfer });
    await page.dispatchEvent('body', 'drop', { dataTransfer });
    const preview = page.getByRole('dialog', { name: 'Import preview' });
    await expect(preview).toContainText('Verified');
    await preview.getByRole('button', { name: 'Import' }).click();
    await expect(page.getByRole('region', { name: 'Jobs' }).getByRole('listitem').filter({ hasText: 'Import' })).toContainText('Done');
  });

  test('restore asks first, then can be undone', async () => {
    const db = page.getByRole('region', { name: 'Database' });
    await expect(db).toContainText('590');
    const row = page.getByRole('table', { name: 'Snapshots' }).locator('tbody tr').filter({ hasText: 'Initial import' });
    await row.getByRole('button', { name: 'Restore' }).click();
    await page.getByRole('dialog', { name: 'Restore snapshot' }).getByRole('button', { name: 'Restore' }).click();
    await expect(db).toContainText('200');
    await page.getByRole('button', { name: 'Undo restore' }).click();
    await expect(db).toContainText('590');
  });
});
