// `npm start`: the desktop app where Electron can run, else the same UI in the browser.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** The Electron binary's path, or the reason it cannot be used — without triggering a download. */
function findElectron() {
  let pkgDir;
  try {
    pkgDir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    return { reason: 'the electron package is not installed' };
  }
  const pathFile = path.join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) return { reason: "Electron's binary could not be downloaded from its server" };
  const binary = path.join(pkgDir, 'dist', require('node:fs').readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(binary)) return { reason: `Electron's binary is missing at ${binary}` };
  return { binary };
}

/**
 * package.json denies Electron's install script (it downloads, and `npm install` must work
 * offline), so the binary is fetched here, on the first start, where a failure is not fatal.
 */
function tryDownloadElectron() {
  let pkgDir;
  try {
    pkgDir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    return;
  }
  if (existsSync(path.join(pkgDir, 'path.txt'))) return;
  console.log('Fetching the Electron binary (first start only)…');
  spawnSync(process.execPath, [path.join(pkgDir, 'install.js')], { stdio: 'ignore', timeout: 180_000 });
}

if (!process.env.VECSNAP_NO_ELECTRON) tryDownloadElectron();
const electron = process.env.VECSNAP_NO_ELECTRON ? { reason: 'VECSNAP_NO_ELECTRON is set' } : findElectron();
const mainJs = path.join(root, 'dist', 'app', 'electron', 'main.js');
if (electron.binary && existsSync(mainJs)) {
  const child = spawn(electron.binary, [mainJs, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const why = electron.binary ? 'the desktop shell is not built' : electron.reason;
  console.log(`VecSnap cannot open its desktop window here because ${why}, so it starts the same app in your browser instead.`);
  const child = spawn(process.execPath, [path.join(root, 'dist', 'app', 'server', 'main.js'), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 0));
}
