import { describe, expect, it, vi } from 'vitest';
import { API_METHODS, CHANNELS, EVENT_CHANNEL } from '../core/service/contract.js';

const exposed = new Map<string, Record<string, unknown>>();
const invoke = vi.fn(async (...args: unknown[]) => ({ ok: true, value: args }));
const listeners = new Map<string, (...args: unknown[]) => void>();

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, value: Record<string, unknown>) => exposed.set(key, value) },
  ipcRenderer: {
    invoke,
    on: (channel: string, l: (...args: unknown[]) => void) => listeners.set(channel, l),
    removeListener: (channel: string) => listeners.delete(channel),
  },
  webUtils: { getPathForFile: (f: { name: string }) => `/dropped/${f.name}` },
}));

describe('preload', () => {
  it('exposes exactly the contract as window.vecsnap, and no ipcRenderer', async () => {
    await import('./preload.js');
    const api = exposed.get('vecsnap')!;
    expect(Object.keys(api).sort()).toEqual([...API_METHODS, 'onEvent'].sort());
    expect([...exposed.keys()].sort()).toEqual(['vecsnap', 'vecsnapDesktop']);
    for (const value of exposed.values()) for (const v of Object.values(value)) expect(typeof v).toBe('function');

    await (api.createSnapshot as (r: unknown) => Promise<unknown>)({ name: 'x' });
    expect(invoke).toHaveBeenLastCalledWith(CHANNELS.createSnapshot, { name: 'x' });

    const seen: unknown[] = [];
    const off = (api.onEvent as (l: (e: unknown) => void) => () => void)((e) => seen.push(e));
    listeners.get(EVENT_CHANNEL)!({}, { type: 'workspace:changed' });
    expect(seen).toEqual([{ type: 'workspace:changed' }]);
    off();
    expect(listeners.has(EVENT_CHANNEL)).toBe(false);
  });

  it('resolves dropped files to paths through webUtils and lets main grant them', async () => {
    await import('./preload.js');
    const desktop = exposed.get('vecsnapDesktop')! as { resolveDroppedFiles(f: { name: string }[]): Promise<unknown> };
    await desktop.resolveDroppedFiles([{ name: 'a.json' }]);
    expect(invoke).toHaveBeenLastCalledWith('drop:grant', ['/dropped/a.json']);
  });
});
