import { app, BrowserWindow, dialog, ipcMain, Menu, net, protocol, webContents } from 'electron';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeJsonAtomic } from '../core/io/atomic-write.js';
import { createService, type VecSnapService } from '../core/service/service.js';
import { registerDesktopHandlers } from './dialogs.js';
import { DESKTOP_CHANNELS } from './desktop-channels.js';
import { bindIpc, PathGrants } from './ipc.js';
import { buildMenuTemplate } from './menu.js';
import { APP_HOST, APP_ORIGIN, APP_SCHEME, CSP, isAppUrl, lockDownContents, lockDownSession, secureWebPreferences } from './security.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// dist/app/electron/main.js → dist/renderer and dist/app/electron/preload.cjs
const rendererDir = path.resolve(here, '../../renderer');
const preloadPath = path.join(here, 'preload.cjs');
const settingsFile = () => path.join(app.getPath('userData'), 'settings.json');

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

async function lastDataFolder(): Promise<string> {
  // Tests and scripts can pin the folder; otherwise the last one used, else a default.
  if (process.env.VECSNAP_DATA_DIR) return path.resolve(process.env.VECSNAP_DATA_DIR);
  try {
    const saved = JSON.parse(await fs.readFile(settingsFile(), 'utf8')) as { dataDir?: unknown };
    if (typeof saved.dataDir === 'string' && path.isAbsolute(saved.dataDir)) return saved.dataDir;
  } catch {
    // first run
  }
  return path.join(app.getPath('userData'), 'data');
}

async function rememberDataFolder(dir: string): Promise<void> {
  await fs.mkdir(path.dirname(settingsFile()), { recursive: true });
  await writeJsonAtomic(settingsFile(), { dataDir: dir });
}

function serveRenderer(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = path.resolve(rendererDir, rel);
    if (url.host !== APP_HOST || !file.startsWith(rendererDir + path.sep)) return new Response('Not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', CSP);
    return new Response(response.body, { status: response.status, headers });
  });
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  serveRenderer();
  const dataDir = await lastDataFolder();
  const service: VecSnapService = await createService({ dataDir });
  await rememberDataFolder(service.dataDir);
  const grants = new PathGrants();

  const window = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'VecSnap',
    show: false,
    webPreferences: secureWebPreferences(preloadPath),
  });
  lockDownSession(window.webContents.session);
  app.on('web-contents-created', (_e, contents) => lockDownContents(contents));
  lockDownContents(window.webContents);
  window.once('ready-to-show', () => window.show());
  app.on('second-instance', () => {
    if (window.isMinimized()) window.restore();
    window.focus();
  });

  bindIpc(ipcMain, service, { isTrustedUrl: isAppUrl, grants });
  registerDesktopHandlers(ipcMain, {
    dialog: (sender) => {
      const owner = BrowserWindow.fromWebContents(webContents.fromId(sender.id) ?? window.webContents) ?? window;
      return {
        showSaveDialog: (o) => dialog.showSaveDialog(owner, o),
        showOpenDialog: (o) => dialog.showOpenDialog(owner, o),
      };
    },
    grants,
    isTrustedUrl: isAppUrl,
    defaultExportDir: () => app.getPath('documents'),
  });
  // Remember the folder whenever the renderer switches to another one.
  service.subscribe('main', (event) => {
    if (event.type === 'workspace:changed') void rememberDataFolder(event.info.dataDir);
  });

  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      buildMenuTemplate({
        isMac: process.platform === 'darwin',
        appName: 'VecSnap',
        send: (command) => window.webContents.send(DESKTOP_CHANNELS.menuCommand, command),
        showAbout: () =>
          void dialog.showMessageBox(window, {
            title: 'About VecSnap',
            message: `VecSnap ${app.getVersion()}`,
            detail: `Data folder: ${service.dataDir}`,
          }),
      }),
    ),
  );

  // Quit waits for running jobs and the final save; a second quit request is not needed.
  let closing = false;
  app.on('before-quit', (event) => {
    if (closing) return;
    event.preventDefault();
    closing = true;
    service.close().finally(() => app.exit(0));
  });
  app.on('window-all-closed', () => app.quit());

  await window.loadURL(`${APP_ORIGIN}/index.html`);
}

main().catch((err: unknown) => {
  dialog.showErrorBox('VecSnap could not start', (err as Error).message);
  app.exit(1);
});
