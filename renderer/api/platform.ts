import type { VecSnapApi } from '../../core/service/contract';

/** Commands the desktop menu sends; the renderer runs the same flow as its buttons. */
export type MenuCommand =
  | 'open-folder'
  | 'import'
  | 'export-database-json'
  | 'export-database-binary'
  | 'export-database-sqlite'
  | 'export-snapshot'
  | 'create-snapshot';

/**
 * Everything the UI needs from its host: the contract, plus the few things that differ between
 * the desktop app (native dialogs, paths) and the browser (uploads, downloads).
 */
export interface Platform {
  kind: 'web' | 'electron';
  api: VecSnapApi;
  /**
   * Where an export named `fileName` goes: a path the backend writes to, or null when the person
   * cancelled (desktop save dialog). In the browser: the server's exports folder.
   */
  chooseExportTarget(fileName: string): Promise<string | null>;
  /** After an export finished: the browser downloads it; the desktop has nothing to do. */
  deliverExport(path: string): void;
  /** Picks one file to import and returns a path the backend can read, or null. */
  chooseImportFile(onUpload?: (done: number, total: number) => void): Promise<string | null>;
  /** Files dropped on the window → backend paths (the browser uploads them first). */
  resolveDroppedFiles(files: File[], onUpload?: (done: number, total: number) => void): Promise<string[]>;
  onMenu(listener: (command: MenuCommand) => void): () => void;
}
