import type {
  ApiError,
  ApiMethod,
  Result,
  ServiceEvent,
  VecSnapApi,
  WebEnv,
  WireCall,
  WireMessage,
} from '../../core/service/contract';
import type { Platform } from './platform';

const lost: ApiError = { code: 'IO_ERROR', message: 'The connection to the VecSnap server was lost. Reload the page to reconnect.' };

/** The contract over one WebSocket: calls are matched to results by id, events fan out. */
export function createWebSocketApi(url: string): VecSnapApi {
  let socket: WebSocket | undefined;
  let opened: Promise<WebSocket> | undefined;
  let nextId = 1;
  const pending = new Map<number, (result: Result<unknown>) => void>();
  const listeners = new Set<(event: ServiceEvent) => void>();

  const connect = (): Promise<WebSocket> => {
    if (opened) return opened;
    opened = new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => {
        socket = ws;
        resolve(ws);
      };
      ws.onerror = () => reject(new Error('connection failed'));
      ws.onmessage = (e) => {
        let msg: WireMessage;
        try {
          msg = JSON.parse(String(e.data)) as WireMessage;
        } catch {
          return;
        }
        if (msg.type === 'result') {
          pending.get(msg.id)?.(msg.result);
          pending.delete(msg.id);
        } else if (msg.type === 'event') {
          for (const l of listeners) l(msg.event);
        }
      };
      ws.onclose = () => {
        for (const resolveCall of pending.values()) resolveCall({ ok: false, error: lost });
        pending.clear();
        socket = undefined;
        opened = undefined;
      };
    });
    return opened;
  };

  const call = async (method: ApiMethod, request?: unknown): Promise<Result<unknown>> => {
    let ws: WebSocket;
    try {
      ws = socket ?? (await connect());
    } catch {
      return { ok: false, error: lost };
    }
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      const message: WireCall = { type: 'call', id, method, ...(request !== undefined ? { request } : {}) };
      ws.send(JSON.stringify(message));
    });
  };

  const onEvent = (listener: (event: ServiceEvent) => void): (() => void) => {
    listeners.add(listener);
    void connect().catch(() => undefined);
    return () => listeners.delete(listener);
  };
  // Every property is a method of the contract; the server rejects names it does not know.
  return new Proxy({} as VecSnapApi, {
    get: (_target, name) => (name === 'onEvent' ? onEvent : (request?: unknown) => call(name as ApiMethod, request)),
  });
}

function upload(file: File, onProgress?: (done: number, total: number) => void): Promise<string> {
  // XMLHttpRequest, because fetch has no upload progress.
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/upload?name=${encodeURIComponent(file.name)}`);
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.total);
    xhr.onload = () => {
      try {
        const body = JSON.parse(xhr.responseText) as Result<{ path: string }>;
        if (body.ok) resolve(body.value.path);
        else reject(new Error(body.error.message));
      } catch {
        reject(new Error(`The upload failed (HTTP ${xhr.status}).`));
      }
    };
    xhr.onerror = () => reject(new Error('The upload failed: the server could not be reached.'));
    xhr.send(file);
  });
}

function pickFile(): Promise<File | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.style.display = 'none';
    input.addEventListener('change', () => {
      resolve(input.files?.[0] ?? null);
      input.remove();
    });
    input.addEventListener('cancel', () => {
      resolve(null);
      input.remove();
    });
    document.body.append(input);
    input.click();
  });
}

export async function createWebPlatform(): Promise<Platform> {
  const envResponse = await fetch('/api/env');
  if (!envResponse.ok) throw new Error('This page needs the access token: open the URL the VecSnap server printed.');
  const env = (await envResponse.json()) as WebEnv;
  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  const sep = env.exportsDir.includes('\\') ? '\\' : '/';
  return {
    kind: 'web',
    api: createWebSocketApi(wsUrl),
    chooseExportTarget: async (fileName) => `${env.exportsDir}${sep}${fileName.replace(/[\\/]/g, '_')}`,
    deliverExport(path) {
      const name = path.slice(path.lastIndexOf(sep) + 1);
      const a = document.createElement('a');
      a.href = `/api/download?name=${encodeURIComponent(name)}`;
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
    },
    async chooseImportFile(onUpload) {
      const file = await pickFile();
      return file ? upload(file, onUpload) : null;
    },
    async resolveDroppedFiles(files, onUpload) {
      const paths: string[] = [];
      for (const file of files) paths.push(await upload(file, onUpload));
      return paths;
    },
    onMenu: () => () => undefined,
  };
}
