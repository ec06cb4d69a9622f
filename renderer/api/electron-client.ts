import type { VecSnapApi } from '../../core/service/contract';
import type { MenuCommand, Platform } from './platform';

/** What electron/preload.ts exposes (structurally; the renderer imports nothing from electron/). */
interface DesktopBridge {
  chooseExportTarget(fileName: string): Promise<string | null>;
  chooseImportFile(): Promise<string | null>;
  chooseDataFolder(): Promise<string | null>;
  resolveDroppedFiles(files: File[]): Promise<string[]>;
  onMenu(listener: (command: MenuCommand) => void): () => void;
}

declare global {
  interface Window {
    vecsnap?: VecSnapApi;
    vecsnapDesktop?: DesktopBridge;
  }
}

/** The desktop Platform: the contract over IPC, native dialogs, paths of dropped files. */
export function createElectronPlatform(api: VecSnapApi, desktop: DesktopBridge): Platform {
  return {
    kind: 'electron',
    api,
    chooseExportTarget: (fileName) => desktop.chooseExportTarget(fileName),
    deliverExport: () => undefined,
    chooseImportFile: () => desktop.chooseImportFile(),
    resolveDroppedFiles: (files) => desktop.resolveDroppedFiles(files),
    onMenu: (listener) =>
      desktop.onMenu((command) => {
        if (command === 'open-folder') {
          // Choosing a folder is native; switching to it is the contract's openWorkspace.
          void desktop.chooseDataFolder().then((dir) => (dir ? api.openWorkspace({ dir }) : undefined));
          return;
        }
        listener(command);
      }),
  };
}
