/**
 * Sandboxed preload (bundled into one CommonJS file: a sandboxed preload may only require
 * 'electron'). Exposes named functions — never ipcRenderer itself.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { API_METHODS, CHANNELS, EVENT_CHANNEL, type ServiceEvent, type VecSnapApi } from '../core/service/contract.js';
import { DESKTOP_CHANNELS, MENU_COMMANDS, type DesktopMenuCommand } from './desktop-channels.js';

function buildApi(): VecSnapApi {
  const api: Record<string, unknown> = {};
  for (const method of API_METHODS) {
    api[method] = (request?: unknown) => ipcRenderer.invoke(CHANNELS[method], request);
  }
  api.onEvent = (listener: (event: ServiceEvent) => void) => {
    const handler = (_e: IpcRendererEvent, event: ServiceEvent) => listener(event);
    ipcRenderer.on(EVENT_CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, handler);
    };
  };
  return api as VecSnapApi;
}

export interface DesktopBridge {
  chooseExportTarget(fileName: string): Promise<string | null>;
  chooseImportFile(): Promise<string | null>;
  chooseDataFolder(): Promise<string | null>;
  /** Paths of dropped files, granted for import by main (non-files are left out). */
  resolveDroppedFiles(files: File[]): Promise<string[]>;
  onMenu(listener: (command: DesktopMenuCommand) => void): () => void;
}

const desktop: DesktopBridge = {
  chooseExportTarget: (fileName) => ipcRenderer.invoke(DESKTOP_CHANNELS.chooseExportTarget, fileName),
  chooseImportFile: () => ipcRenderer.invoke(DESKTOP_CHANNELS.chooseImportFile),
  chooseDataFolder: () => ipcRenderer.invoke(DESKTOP_CHANNELS.chooseDataFolder),
  resolveDroppedFiles: (files) =>
    ipcRenderer.invoke(
      DESKTOP_CHANNELS.grantDroppedFiles,
      files.map((f) => webUtils.getPathForFile(f)).filter((p) => p !== ''),
    ),
  onMenu(listener) {
    const handler = (_e: IpcRendererEvent, command: unknown) => {
      if (typeof command === 'string' && (MENU_COMMANDS as readonly string[]).includes(command)) {
        listener(command as DesktopMenuCommand);
      }
    };
    ipcRenderer.on(DESKTOP_CHANNELS.menuCommand, handler);
    return () => {
      ipcRenderer.removeListener(DESKTOP_CHANNELS.menuCommand, handler);
    };
  },
};

export const exposedApi = buildApi() satisfies VecSnapApi;
contextBridge.exposeInMainWorld('vecsnap', exposedApi);
contextBridge.exposeInMainWorld('vecsnapDesktop', desktop);
