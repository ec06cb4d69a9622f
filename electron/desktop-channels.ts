/**
 * Desktop-only channels (dialogs, menu commands). The contract's own channels live in
 * core/service/contract.ts; these exist only between main and the preload.
 */
export const DESKTOP_CHANNELS = {
  chooseExportTarget: 'dialog:export-target',
  chooseImportFile: 'dialog:import-file',
  chooseDataFolder: 'dialog:data-folder',
  grantDroppedFiles: 'drop:grant',
  menuCommand: 'menu:command',
} as const;

export const MENU_COMMANDS = [
  'open-folder',
  'import',
  'export-database-json',
  'export-database-binary',
  'export-database-sqlite',
  'export-snapshot',
  'create-snapshot',
] as const;

export type DesktopMenuCommand = (typeof MENU_COMMANDS)[number];
