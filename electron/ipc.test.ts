import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_METHODS, CHANNELS, EVENT_CHANNEL, type ServiceEvent } from '../core/service/contract.js';
import { createService, type VecSnapService } from '../core/service/service.js';
import { tempDir } from '../core/test-helpers/fixtures.js';
import { registerDesktopHandlers, type DialogLike } from './dialogs.js';
import { DESKTOP_CHANNELS } from './desktop-channels.js';
import { bindIpc, PathGrants, type IpcInvokeEventLike, type IpcMainLike, type WebContentsLike } from './ipc.js';
import { isAppUrl } from './security.js';

type Handler = (event: IpcInvokeEventLike, ...args: unknown[]) => unknown;

class FakeIpcMain implements IpcMainLike {
  handlers = new Map<string, Handler>();
  handle(channel: string, listener: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  invoke(channel: string, event: IpcInvokeEventLike, ...args: unknown[]): Promise<unknown> {
    return Promise.resolve(this.handlers.get(channel)!(event, ...args));
  }
}

class FakeWebContents implements WebContentsLike {
  sent: { channel: string; args: unknown[] }[] = [];
  private destroyed = false;
  private onDestroyed: (() => void)[] = [];
  constructor(readonly id: number) {}
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  once(_event: 'destroyed', listener: () => void): void {
    this.onDestroyed.push(listener);
  }
  destroy(): void {
    this.destroyed = true;
    for (const l of this.onDestroyed) l();
  }
  events(): ServiceEvent[] {
    return this.sent.filter((s) => s.channel === EVENT_CHANNEL).map((s) => s.args[0] as ServiceEvent);
  }
}

const fromApp = (sender: WebContentsLike, url = 'app://vecsnap/index.html'): IpcInvokeEventLike => ({
  sender,
  senderFrame: { url, parent: null },
});

let dir: string;
let cleanup: () => void;
let service: VecSnapService;
let ipc: FakeIpcMain;
let grants: PathGrants;
beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  service = await createService({ dataDir: path.join(dir, 'data') });
  ipc = new FakeIpcMain();
  grants = new PathGrants();
  bindIpc(ipc, service, { isTrustedUrl: isAppUrl, grants });
});
afterEach(async () => {
  await service.close();
  cleanup();
});

async function finished(wc: FakeWebContents, jobId: string): Promise<ServiceEvent> {
  for (let i = 0; i < 500; i++) {
    const done = wc.events().find((e) => e.type === 'jobs:finished' && e.finished.jobId === jobId);
    if (done) return done;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('job did not finish');
}

describe('bindIpc', () => {
  it('registers one handler per contract method, on the contract channel names', () => {
    expect([...ipc.handlers.keys()].sort()).toEqual(API_METHODS.map((m) => CHANNELS[m]).sort());
  });

  it('refuses senders that are not the app’s own top frame', async () => {
    const wc = new FakeWebContents(1);
    const channel = CHANNELS.workspaceInfo;
    expect(await ipc.invoke(channel, fromApp(wc, 'https://evil.example/'))).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(await ipc.invoke(channel, { sender: wc, senderFrame: { url: 'app://vecsnap/', parent: {} } })).toMatchObject({ ok: false });
    expect(await ipc.invoke(channel, { sender: wc, senderFrame: null })).toMatchObject({ ok: false });
    expect(await ipc.invoke(channel, fromApp(wc))).toMatchObject({ ok: true, value: { count: 0 } });
  });

  it('turns errors and bad payloads into Results with codes', async () => {
    const wc = new FakeWebContents(1);
    expect(await ipc.invoke(CHANNELS.restoreSnapshot, fromApp(wc), { id: 'nope' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await ipc.invoke(CHANNELS.createSnapshot, fromApp(wc), 'a string')).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(await ipc.invoke(CHANNELS.createSnapshot, fromApp(wc), [1])).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });

  it('re-checks paths: exports only to save-dialog targets, imports only of opened or dropped files', async () => {
    const wc = new FakeWebContents(1);
    const target = path.join(dir, 'out.bin');
    const request = { path: target, format: 'binary', compression: 'none' };
    expect(await ipc.invoke(CHANNELS.exportDatabase, fromApp(wc), request)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(await ipc.invoke(CHANNELS.importFile, fromApp(wc), { path: '/etc/passwd', clear: true })).toMatchObject({ ok: false });
    grants.grantExport(target);
    expect(await ipc.invoke(CHANNELS.exportDatabase, fromApp(wc), request)).toMatchObject({ ok: true });
  });

  it('sends progress only to the window that owns the job and cancels its jobs when it closes', async () => {
    const a = new FakeWebContents(1);
    const b = new FakeWebContents(2);
    await ipc.invoke(CHANNELS.workspaceInfo, fromApp(b));
    const started = (await ipc.invoke(CHANNELS.generateSampleData, fromApp(a), { count: 400, dimension: 8 })) as { ok: true; value: { jobId: string } };
    await finished(a, started.value.jobId);
    expect(a.events().some((e) => e.type === 'jobs:finished')).toBe(true);
    expect(b.events().some((e) => e.type === 'jobs:progress' || e.type === 'jobs:finished')).toBe(false);
    // workspace:changed follows jobs:finished once the new info is read; wait for it.
    for (let i = 0; i < 200 && !b.events().some((e) => e.type === 'workspace:changed'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(b.events().some((e) => e.type === 'workspace:changed')).toBe(true);

    // A long job of window a, then a closes: the job is cancelled.
    const target = path.join(dir, 'slow.json.br');
    grants.grantExport(target);
    await service.close();
    service = await createService({ dataDir: path.join(dir, 'big') });
    ipc = new FakeIpcMain();
    bindIpc(ipc, service, { isTrustedUrl: isAppUrl, grants });
    const c = new FakeWebContents(3);
    const sample = (await ipc.invoke(CHANNELS.generateSampleData, fromApp(c), { count: 150_000, dimension: 16, snapshots: 0 })) as {
      ok: true;
      value: { jobId: string };
    };
    await finished(c, sample.value.jobId);
    const exp = (await ipc.invoke(CHANNELS.exportDatabase, fromApp(c), { path: target, format: 'json', compression: 'brotli' })) as {
      ok: true;
      value: { jobId: string };
    };
    c.destroy();
    const jobs = async () => ((await ipc.invoke(CHANNELS.listJobs, fromApp(new FakeWebContents(4)))) as { value: { jobId: string; state: string }[] }).value;
    for (let i = 0; i < 500 && (await jobs()).find((j) => j.jobId === exp.value.jobId)?.state === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await jobs()).find((j) => j.jobId === exp.value.jobId)?.state).toBe('cancelled');
  });
});

describe('desktop dialogs', () => {
  it('grants exactly the paths the person picked, and only existing dropped files', async () => {
    const picked = path.join(dir, 'picked.sqlite');
    const opened = path.join(dir, 'in.json');
    writeFileSync(opened, '{}');
    const dialog: DialogLike = {
      showSaveDialog: async (o) => ({ canceled: false, filePath: path.join(path.dirname(o.defaultPath!), 'picked.sqlite') }),
      showOpenDialog: async () => ({ canceled: false, filePaths: [opened] }),
    };
    registerDesktopHandlers(ipc, { dialog: () => dialog, grants, isTrustedUrl: isAppUrl, defaultExportDir: () => dir });
    const wc = new FakeWebContents(1);
    expect(await ipc.invoke(DESKTOP_CHANNELS.chooseExportTarget, fromApp(wc), 'db.bin')).toBe(picked);
    expect(grants.canExportTo(picked)).toBe(true);
    expect(await ipc.invoke(DESKTOP_CHANNELS.chooseImportFile, fromApp(wc))).toBe(opened);
    expect(grants.canImportFrom(opened)).toBe(true);
    expect(await ipc.invoke(DESKTOP_CHANNELS.grantDroppedFiles, fromApp(wc), [opened, dir, 'relative.json', '/no/such/file'])).toEqual([opened]);
    expect(await ipc.invoke(DESKTOP_CHANNELS.chooseExportTarget, fromApp(wc, 'https://evil.example/'), 'x')).toBeNull();
  });
});
