import path from 'node:path';
import { API_METHODS, CHANNELS, EVENT_CHANNEL, type ApiMethod, type ApiRequest, type Result } from '../core/service/contract.js';
import type { VecSnapService } from '../core/service/service.js';

/** The parts of Electron's ipcMain this binding uses — so it is testable without Electron. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface WebContentsLike {
  id: number;
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
  once(event: 'destroyed', listener: () => void): unknown;
}

export interface IpcInvokeEventLike {
  sender: WebContentsLike;
  /** The frame that sent the message; null once it navigated away or was destroyed. */
  senderFrame: { url: string; parent: unknown } | null;
}

/** Paths the person picked in a dialog (or dropped) during this session. */
export class PathGrants {
  private readonly exportTargets = new Set<string>();
  private readonly importSources = new Set<string>();

  grantExport(file: string): void {
    this.exportTargets.add(path.resolve(file));
  }

  grantImport(file: string): void {
    this.importSources.add(path.resolve(file));
  }

  canExportTo(file: string): boolean {
    return this.exportTargets.has(path.resolve(file));
  }

  canImportFrom(file: string): boolean {
    return this.importSources.has(path.resolve(file));
  }
}

export interface IpcBindingOptions {
  /** True for the app's own page (e.g. `app://vecsnap/…`). */
  isTrustedUrl(url: string): boolean;
  grants: PathGrants;
}

const refuse = (message: string): Result<never> => ({ ok: false, error: { code: 'INVALID_ARGUMENT', message } });

/** Only the app's own top-level frame may call: not an iframe, not a navigated-away page. */
export function isTrustedSender(event: IpcInvokeEventLike, isTrustedUrl: (url: string) => boolean): boolean {
  const frame = event.senderFrame;
  return frame !== null && frame.parent === null && isTrustedUrl(frame.url);
}

/** Checks a renderer request's paths again in main: the renderer is not trusted with the disk. */
export function checkRequestPaths(method: ApiMethod, request: unknown, grants: PathGrants): string | null {
  const r = (request ?? {}) as { path?: unknown; dir?: unknown };
  const absolute = (p: unknown): p is string => typeof p === 'string' && path.isAbsolute(p) && !p.includes('\0');
  if (method === 'exportDatabase' || method === 'exportSnapshot') {
    if (!absolute(r.path) || !grants.canExportTo(r.path)) return 'Exports go where you chose in the save dialog.';
  }
  if (method === 'previewImport' || method === 'importFile') {
    if (!absolute(r.path) || !grants.canImportFrom(r.path)) return 'Only files you opened or dropped on the window can be imported.';
  }
  if (method === 'openWorkspace' && !absolute(r.dir)) return 'The data folder must be chosen in the folder dialog.';
  return null;
}

/**
 * Serves the contract over ipcMain: one handler per method, the sender checked, payloads
 * checked, errors turned into Results, events sent only to the window that owns them, and a
 * window's jobs cancelled when it goes away. Returns a function that removes every handler.
 */
export function bindIpc(ipc: IpcMainLike, service: VecSnapService, options: IpcBindingOptions): () => void {
  const subscribed = new Map<number, () => void>();

  const ensureSubscribed = (sender: WebContentsLike): string => {
    const clientId = `window-${sender.id}`;
    if (!subscribed.has(sender.id)) {
      const unsubscribe = service.subscribe(clientId, (event) => {
        if (!sender.isDestroyed()) sender.send(EVENT_CHANNEL, event);
      });
      subscribed.set(sender.id, unsubscribe);
      sender.once('destroyed', () => {
        unsubscribe();
        subscribed.delete(sender.id);
        service.cancelJobsOf(clientId);
      });
    }
    return clientId;
  };

  for (const method of API_METHODS) {
    ipc.handle(CHANNELS[method], async (event, request) => {
      if (!isTrustedSender(event, options.isTrustedUrl)) return refuse('This request did not come from the VecSnap window.');
      if (request !== undefined && (typeof request !== 'object' || request === null || Array.isArray(request))) {
        return refuse('A request must be an object.');
      }
      const refused = checkRequestPaths(method, request, options.grants);
      if (refused) return refuse(refused);
      const clientId = ensureSubscribed(event.sender);
      return service.call(method, request as ApiRequest<typeof method>, clientId);
    });
  }
  return () => {
    for (const method of API_METHODS) ipc.removeHandler(CHANNELS[method]);
    for (const unsubscribe of subscribed.values()) unsubscribe();
    subscribed.clear();
  };
}
