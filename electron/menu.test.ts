import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { MENU_COMMANDS } from './desktop-channels.js';
import { buildMenuTemplate } from './menu.js';

function flatten(items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? flatten(i.submenu) : [])]);
}

describe('application menu', () => {
  it('has File ▸ Open Data Folder, Import, Export ▸ (JSON, Binary, SQLite, Selected Snapshot), Create Snapshot, Quit; View; Help', () => {
    const template = buildMenuTemplate({ isMac: false, appName: 'VecSnap', send: () => undefined, showAbout: () => undefined });
    expect(template.map((m) => m.label ?? m.role)).toEqual(['File', 'editMenu', 'View', 'windowMenu', 'help']);
    const file = template[0]!.submenu as MenuItemConstructorOptions[];
    expect(file.filter((i) => i.type !== 'separator').map((i) => i.label)).toEqual([
      'Open Data Folder…',
      'Import…',
      'Export',
      'Create Snapshot…',
      'Quit',
    ]);
    const exportMenu = (file.find((i) => i.label === 'Export')!.submenu as MenuItemConstructorOptions[]).filter((i) => i.type !== 'separator');
    expect(exportMenu.map((i) => i.label)).toEqual(['Database as JSON…', 'Database as Binary…', 'Database as SQLite…', 'Selected Snapshot…']);
    expect(file.find((i) => i.label === 'Quit')).toMatchObject({ role: 'quit', accelerator: 'CmdOrCtrl+Q' });
  });

  it('items only send commands, one per command, and accelerators are unique', () => {
    const send = vi.fn();
    const items = flatten(buildMenuTemplate({ isMac: false, appName: 'VecSnap', send, showAbout: () => undefined }));
    for (const item of items) (item.click as (() => void) | undefined)?.();
    expect(send.mock.calls.map((c) => c[0]).sort()).toEqual([...MENU_COMMANDS].sort());
    const accelerators = items.map((i) => i.accelerator).filter(Boolean);
    expect(new Set(accelerators).size).toBe(accelerators.length);
  });

  it('adds the app menu on macOS', () => {
    const template = buildMenuTemplate({ isMac: true, appName: 'VecSnap', send: () => undefined, showAbout: () => undefined });
    expect(template[0]).toEqual({ role: 'appMenu' });
  });
});
