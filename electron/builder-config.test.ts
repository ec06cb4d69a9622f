import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DebugLogger } from 'builder-util';
import { validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { load as parseYaml } from 'js-yaml';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('electron-builder.yml', () => {
  const config = parseYaml(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;

  it("passes electron-builder's own schema check (offline)", async () => {
    await expect(validateConfiguration(config as never, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('a misspelled option is caught by that check (so the check is real)', async () => {
    await expect(validateConfiguration({ ...config, asarUnpak: ['x'] } as never, new DebugLogger(false))).rejects.toThrow(/asarUnpak/);
  });

  it('targets AppImage + deb, dmg and nsis, unpacks native modules and starts the Electron main', () => {
    expect(config).toMatchObject({
      linux: { target: ['AppImage', 'deb'] },
      mac: { target: 'dmg' },
      win: { target: 'nsis' },
      extraMetadata: { main: 'dist/app/electron/main.js' },
      npmRebuild: true,
    });
    expect(config.asarUnpack).toContain('**/node_modules/better-sqlite3/**');
  });
});
