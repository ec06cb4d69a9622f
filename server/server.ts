import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { API_METHODS, type ApiMethod, type ApiRequest } from '../core/service/contract.js';
import { createService, type VecSnapService } from '../core/service/service.js';
import { pipeIntoFile } from '../core/io/file-sink.js';
import type { WebEnv, WireMessage } from '../core/service/contract.js';

export interface ServerOptions {
  dataDir: string;
  host?: string;
  port?: number;
  /** Fixed token (tests); random otherwise. */
  token?: string;
  /** Built renderer (index.html + assets). */
  staticDir: string;
  /** Largest upload accepted, in bytes (default 64 GiB). */
  maxUploadBytes?: number;
}

export interface RunningServer {
  url: string;
  token: string;
  port: number;
  host: string;
  service: VecSnapService;
  close(): Promise<void>;
}

const COOKIE = 'vecsnap_token';
const MAX_MESSAGE = 1024 * 1024;
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

function safeName(name: string): string {
  const base = path.basename(name).replace(/[^\p{L}\p{N}._-]+/gu, '_').replace(/^\.+/, '');
  return base.slice(0, 120) || 'file';
}

function inside(dir: string, file: string): boolean {
  const rel = path.relative(dir, path.resolve(file));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * Serves the built renderer and the contract on 127.0.0.1 (never all interfaces unless asked).
 * A random token, given in the printed URL, is required on every request and socket; the page
 * load turns it into a same-site cookie so assets and the socket carry it too.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(24).toString('base64url');
  const tokenBytes = Buffer.from(token);
  const maxUpload = options.maxUploadBytes ?? 64 * 1024 ** 3;
  const service = await createService({ dataDir: options.dataDir });
  const transferRoot = () => path.join(service.dataDir, 'transfers');
  const exportsDir = () => path.join(transferRoot(), 'exports');
  const uploadsDir = () => path.join(transferRoot(), 'uploads');

  const authorized = (req: http.IncomingMessage, url: URL): boolean => {
    const candidates = [url.searchParams.get('token'), req.headers['x-vecsnap-token'], cookieToken(req.headers.cookie)];
    return candidates.some((c) => {
      if (typeof c !== 'string') return false;
      const b = Buffer.from(c);
      return b.length === tokenBytes.length && timingSafeEqual(b, tokenBytes);
    });
  };

  const sendJson = (res: http.ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...SECURITY_HEADERS });
    res.end(JSON.stringify(body));
  };
  const fail = (res: http.ServerResponse, status: number, code: string, message: string): void =>
    sendJson(res, status, { ok: false, error: { code, message } });

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) fail(res, 500, 'IO_ERROR', `The server failed: ${(err as Error).message}`);
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!authorized(req, url)) {
      fail(res, 401, 'INVALID_ARGUMENT', 'This VecSnap server needs the access token from the URL it printed at start.');
      return;
    }
    if (url.pathname === '/api/env' && req.method === 'GET') {
      const env: WebEnv = { platform: 'web', dataDir: service.dataDir, exportsDir: exportsDir(), uploadsDir: uploadsDir() };
      sendJson(res, 200, env);
      return;
    }
    if (url.pathname === '/api/upload' && req.method === 'POST') {
      await upload(req, res, url);
      return;
    }
    if (url.pathname === '/api/download' && req.method === 'GET') {
      await download(res, url);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      fail(res, 405, 'INVALID_ARGUMENT', `${req.method ?? 'This method'} is not allowed here.`);
      return;
    }
    await serveStatic(req, res, url);
  }

  async function upload(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const length = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(length) && length > maxUpload) {
      fail(res, 413, 'INVALID_ARGUMENT', `The file is larger than the ${maxUpload} bytes this server accepts.`);
      req.resume();
      return;
    }
    await fs.mkdir(uploadsDir(), { recursive: true });
    const target = path.join(uploadsDir(), `${randomUUID().slice(0, 8)}-${safeName(url.searchParams.get('name') ?? 'upload')}`);
    let received = 0;
    try {
      const limit = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          received += chunk.length;
          done(received > maxUpload ? new Error('too large') : null, chunk);
        },
      });
      // req is a stage of its own, so a failed write ends the request at once.
      await pipeIntoFile(target, () => [req, limit]);
    } catch (err) {
      // When the file could not even be opened, the body was never read: drain it.
      if (!req.destroyed) req.resume();
      await fs.rm(target, { force: true });
      if (received > maxUpload) fail(res, 413, 'INVALID_ARGUMENT', 'The file is larger than this server accepts.');
      else fail(res, 400, 'IO_ERROR', `The upload did not complete: ${(err as Error).message}`);
      return;
    }
    sendJson(res, 200, { ok: true, value: { path: target, bytes: received } });
  }

  async function download(res: http.ServerResponse, url: URL): Promise<void> {
    const name = url.searchParams.get('name') ?? '';
    const file = path.join(exportsDir(), safeName(name));
    if (name === '' || safeName(name) !== name) {
      fail(res, 400, 'INVALID_ARGUMENT', 'Only files of the exports folder can be downloaded.');
      return;
    }
    let size: number;
    try {
      size = (await fs.stat(file)).size;
    } catch {
      fail(res, 404, 'NOT_FOUND', `There is no exported file named "${name}".`);
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(size),
      'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
    });
    await pipeline(createReadStream(file), res);
  }

  async function serveStatic(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = path.resolve(options.staticDir, rel);
    if (!inside(options.staticDir, file)) {
      fail(res, 404, 'NOT_FOUND', 'Not found.');
      return;
    }
    let data: Buffer;
    try {
      data = await fs.readFile(file);
    } catch {
      fail(res, 404, 'NOT_FOUND', rel === 'index.html' ? 'The UI is not built: run `npm run build`.' : 'Not found.');
      return;
    }
    const headers: Record<string, string> = { ...SECURITY_HEADERS, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' };
    if (url.searchParams.has('token')) headers['Set-Cookie'] = `${COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : data);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws' || !authorized(req, url)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => bindSocket(ws));
  });

  function bindSocket(ws: WebSocket): void {
    const clientId = randomUUID();
    const send = (message: WireMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    };
    const unsubscribe = service.subscribe(clientId, (event) => send({ type: 'event', event }));
    ws.on('message', (data, isBinary) => {
      void onMessage(isBinary ? null : data.toString());
    });
    ws.on('close', () => {
      unsubscribe();
      service.cancelJobsOf(clientId);
    });
    ws.on('error', () => ws.terminate());

    async function onMessage(text: string | null): Promise<void> {
      let msg: { type?: unknown; id?: unknown; method?: unknown; request?: unknown };
      try {
        msg = JSON.parse(text ?? '') as typeof msg;
      } catch {
        send({ type: 'error', message: 'Messages must be JSON text.' });
        return;
      }
      if (msg.type !== 'call' || typeof msg.id !== 'number' || typeof msg.method !== 'string') {
        send({ type: 'error', message: 'Expected { type: "call", id, method, request }.' });
        return;
      }
      const id = msg.id;
      const method = msg.method as ApiMethod;
      if (!API_METHODS.includes(method)) {
        send({ type: 'result', id, result: { ok: false, error: { code: 'INVALID_ARGUMENT', message: `Unknown operation "${method}".` } } });
        return;
      }
      const refused = checkPaths(method, msg.request);
      if (refused) {
        send({ type: 'result', id, result: { ok: false, error: { code: 'INVALID_ARGUMENT', message: refused } } });
        return;
      }
      const result = await service.call(method, msg.request as ApiRequest<typeof method>, clientId);
      send({ type: 'result', id, result });
    }
  }

  /** The browser may only write into the exports folder and read what was uploaded or exported. */
  function checkPaths(method: ApiMethod, request: unknown): string | null {
    const r = (request ?? {}) as { path?: unknown };
    if (method === 'openWorkspace') return 'Switching the data folder is only possible in the desktop app or with --dir.';
    if ((method === 'exportDatabase' || method === 'exportSnapshot') && (typeof r.path !== 'string' || !inside(exportsDir(), r.path))) {
      return 'In the browser, exports are written to the server\'s exports folder and then downloaded.';
    }
    if ((method === 'previewImport' || method === 'importFile') && (typeof r.path !== 'string' || !(inside(uploadsDir(), r.path) || inside(exportsDir(), r.path)))) {
      return 'In the browser, files are imported by uploading them first.';
    }
    return null;
  }

  await fs.mkdir(exportsDir(), { recursive: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    token,
    port,
    host,
    service,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await service.close();
    },
  };
}

function cookieToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return undefined;
}
