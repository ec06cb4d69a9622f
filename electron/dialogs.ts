import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DESKTOP_CHANNELS } from './desktop-channels.js';
import { isTrustedSender, type IpcMainLike, type PathGrants, type WebContentsLike } from './ipc.js';

/** The parts of Electron's `dialog` used here. */
export interface DialogLike {
  showSaveDialog(options: { defaultPath?: string; title?: string; filters?: { name: string; extensions: string[] }[] }): Promise<{
    canceled: boolean;
    filePath?: string;
  }>;
  showOpenDialog(options: { title?: string; properties: ('openFile' | 'openDirectory' | 'createDirectory')[] }): Promise<{
    canceled: boolean;
    filePaths: string[];
  }>;
}

export interface DesktopHandlerOptions {
  dialog: (sender: WebContentsLike) => DialogLike;
  grants: PathGrants;
  isTrustedUrl(url: string): boolean;
  /** Folder the save dialog starts in. */
  defaultExportDir: () => string;
}

async function isRegularFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * Native dialogs, answered with paths that main then trusts for that one use (see PathGrants).
 * Dropped files are granted only when they are existing regular files.
 */
export function registerDesktopHandlers(ipc: IpcMainLike, options: DesktopHandlerOptions): () => void {
  const { grants } = options;
  ipc.handle(DESKTOP_CHANNELS.chooseExportTarget, async (event, fileName) => {
    if (!isTrustedSender(event, options.isTrustedUrl)) return null;
    const name = typeof fileName === 'string' ? path.basename(fileName) : 'vecsnap-export';
    const result = await options.dialog(event.sender).showSaveDialog({
      title: 'Export',
      defaultPath: path.join(options.defaultExportDir(), name),
    });
    if (result.canceled || !result.filePath) return null;
    grants.grantExport(result.filePath);
    return result.filePath;
  });
  ipc.handle(DESKTOP_CHANNELS.chooseImportFile, async (event) => {
    if (!isTrustedSender(event, options.isTrustedUrl)) return null;
    const result = await options.dialog(event.sender).showOpenDialog({ title: 'Import', properties: ['openFile'] });
    const file = result.filePaths[0];
    if (result.canceled || !file) return null;
    grants.grantImport(file);
    return file;
  });
  ipc.handle(DESKTOP_CHANNELS.chooseDataFolder, async (event) => {
    if (!isTrustedSender(event, options.isTrustedUrl)) return null;
    const result = await options.dialog(event.sender).showOpenDialog({
      title: 'Open data folder',
      properties: ['openDirectory', 'createDirectory'],
    });
    return result.canceled ? null : (result.filePaths[0] ?? null);
  });
  ipc.handle(DESKTOP_CHANNELS.grantDroppedFiles, async (event, paths) => {
    if (!isTrustedSender(event, options.isTrustedUrl) || !Array.isArray(paths)) return [];
    const granted: string[] = [];
    for (const p of paths) {
      if (typeof p === 'string' && path.isAbsolute(p) && (await isRegularFile(p))) {
        grants.grantImport(p);
        granted.push(p);
      }
    }
    return granted;
  });
  return () => {
    for (const channel of Object.values(DESKTOP_CHANNELS)) if (channel !== DESKTOP_CHANNELS.menuCommand) ipc.removeHandler(channel);
  };
}
