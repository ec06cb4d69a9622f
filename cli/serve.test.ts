import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { tempDir } from '../core/test-helpers/fixtures.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'dist/app/cli/vecsnap.js');

/** How long any single wait may take before the test fails instead of hanging. */
const WAIT_MS = 20_000;

let dir: string;
let cleanup: () => void;
const children: ChildProcess[] = [];

beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(async () => {
  // Never leak a server: kill whatever is still running and wait for it to go.
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await gone;
    }
  }
  cleanup();
});

function vecsnap(...args: string[]): { code: number | null; signal: NodeJS.Signals | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: WAIT_MS, killSignal: 'SIGKILL' });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

interface Served {
  child: ChildProcess;
  url: URL;
  port: number;
  token: string;
  stdout: () => string;
  stderr: () => string;
}

/** Spawns `vecsnap serve` and resolves once it prints `Open <url>`; fails if it exits or stays silent. */
function serve(...args: string[]): Promise<Served> {
  expect(existsSync(bin), 'run `npm run build` first (npm test does)').toBe(true);
  const child = spawn(process.execPath, [bin, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (err += chunk));
  return new Promise<Served>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no URL within ${WAIT_MS} ms; stdout: ${out} stderr: ${err}`)), WAIT_MS);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      reject(new Error(`serve exited (code ${code}, signal ${signal}) before printing a URL; stdout: ${out} stderr: ${err}`));
    };
    child.once('exit', onExit);
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const m = /^Open (\S+)$/m.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      const url = new URL(m[1]!);
      resolve({ child, url, port: Number(url.port), token: url.searchParams.get('token') ?? '', stdout: () => out, stderr: () => err });
    });
  });
}

function waitExit(child: ChildProcess, ms = WAIT_MS): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} did not exit within ${ms} ms`)), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves 'connected' or the error code of a plain TCP connect. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(5_000, () => {
      socket.destroy();
      resolve('TIMEOUT');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

function get(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(WAIT_MS) });
}

function openSocket(port: number, query: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${query}`, { handshakeTimeout: WAIT_MS });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

function call(ws: WebSocket, id: number, method: string, request?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply to ${method} within ${WAIT_MS} ms`)), WAIT_MS);
    const onMessage = (data: WebSocket.RawData): void => {
      const msg = JSON.parse(data.toString()) as { type: string; id?: number };
      if (msg.type === 'result' && msg.id === id) {
        clearTimeout(timer);
        ws.off('message', onMessage);
        resolve(msg);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ type: 'call', id, method, request }));
  });
}

describe('vecsnap serve (subprocess)', () => {
  it('prints a 127.0.0.1 URL with an access token and serves the UI on it', async () => {
    const s = await serve('--dir', path.join(dir, 'data'), '--port', '0');
    expect(s.url.protocol).toBe('http:');
    expect(s.url.hostname).toBe('127.0.0.1');
    expect(s.port).toBeGreaterThan(0);
    expect(s.url.pathname).toBe('/');
    // 24 random bytes, base64url.
    expect(s.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(s.stderr()).toBe('');

    const page = await get(s.url.href);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('set-cookie')).toMatch(new RegExp(`^vecsnap_token=${s.token};.*HttpOnly.*SameSite=Strict`));
    const html = await page.text();
    expect(html).toMatch(/<html/i);
    expect(html).toContain('<div id="root"');

    // The page itself is token-protected too.
    expect((await get(`http://127.0.0.1:${s.port}/`)).status).toBe(401);

    // Bound to loopback only: another local interface address does not answer.
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) expect(await tryConnect(external.address, s.port)).not.toBe('connected');
  });

  it('refuses the API and the contract socket without the token (401) and answers with it', async () => {
    const data = path.join(dir, 'data');
    expect(vecsnap('sample', '--dir', data, '--count', '300', '--dimension', '4', '--quiet').code).toBe(0);
    const s = await serve('--dir', data, '--port', '0');
    const base = `http://127.0.0.1:${s.port}`;

    const anonymous = await get(`${base}/api/env`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('access token') } });
    expect((await get(`${base}/api/env?token=${'x'.repeat(s.token.length)}`)).status).toBe(401);
    expect((await get(`${base}/api/env`, { headers: { 'x-vecsnap-token': 'wrong' } })).status).toBe(401);
    expect((await get(`${base}/api/upload?name=a.json`, { method: 'POST', body: '{}' })).status).toBe(401);

    const env = { platform: 'web', dataDir: data, exportsDir: path.join(data, 'transfers', 'exports'), uploadsDir: path.join(data, 'transfers', 'uploads') };
    const byQuery = await get(`${base}/api/env?token=${s.token}`);
    expect(byQuery.status).toBe(200);
    expect(byQuery.headers.get('content-type')).toBe('application/json');
    expect(await byQuery.json()).toEqual(env);
    expect(await (await get(`${base}/api/env`, { headers: { 'x-vecsnap-token': s.token } })).json()).toEqual(env);
    // The cookie set by the page load is accepted in place of the query token.
    const cookie = (await get(s.url.href)).headers.get('set-cookie')!.split(';')[0]!;
    expect(await (await get(`${base}/api/env`, { headers: { cookie } })).json()).toEqual(env);

    // The contract itself (WebSocket): refused without the token, answers workspaceInfo with it.
    await expect(openSocket(s.port, '')).rejects.toThrow(/401/);
    await expect(openSocket(s.port, '?token=wrong')).rejects.toThrow(/401/);
    const ws = await openSocket(s.port, `?token=${s.token}`);
    try {
      expect(await call(ws, 1, 'workspaceInfo')).toMatchObject({
        type: 'result',
        id: 1,
        result: { ok: true, value: { dataDir: data, dimension: 4, count: 290, snapshotCount: 3 } },
      });
    } finally {
      ws.terminate();
    }
  });

  it('`serve --help` exits 0 with its usage and starts nothing', () => {
    expect(existsSync(bin), 'run `npm run build` first (npm test does)').toBe(true);
    const help = vecsnap('serve', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: vecsnap serve');
    expect(help.out).not.toContain('Open http');
  });

  it('a bad --port fails fast with a message on stderr and never listens', () => {
    expect(existsSync(bin), 'run `npm run build` first (npm test does)').toBe(true);
    for (const port of ['notanumber', '99999', '-1']) {
      const r = vecsnap('serve', '--dir', path.join(dir, 'data'), '--port', port);
      expect(r.signal, `serve --port ${port} must exit by itself`).toBeNull();
      expect(r.code, `serve --port ${port}`).not.toBe(0);
      expect(r.out).not.toContain('Open http');
      expect(r.err).toMatch(/^vecsnap: .*port/);
    }
  });

  // The CLI documents exit code 2 for bad input; a malformed --port is bad input.
  it('a bad --port exits with the bad-input code 2 and names the option', () => {
    expect(existsSync(bin), 'run `npm run build` first (npm test does)').toBe(true);
    for (const port of ['notanumber', '99999', '-1']) {
      const r = vecsnap('serve', '--dir', path.join(dir, 'data'), '--port', port);
      expect(r.code, `serve --port ${port} (stderr: ${r.err.trim()})`).toBe(2);
      expect(r.err).toContain('--port');
    }
  });

  it('exits 0 on SIGINT, closing open sockets, and stops accepting connections', async () => {
    const s = await serve('--dir', path.join(dir, 'data'), '--port', '0');
    // A keep-alive HTTP connection and a live contract socket must not hold the process open.
    expect((await get(`http://127.0.0.1:${s.port}/api/env?token=${s.token}`)).status).toBe(200);
    const ws = await openSocket(s.port, `?token=${s.token}`);
    const wsClosed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.on('error', () => undefined);
    expect(await tryConnect('127.0.0.1', s.port)).toBe('connected');

    const started = Date.now();
    expect(s.child.kill('SIGINT')).toBe(true);
    const exit = await waitExit(s.child, 10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
    await within(wsClosed, 5_000, 'the contract socket to close');
    expect(s.stderr()).toBe('');
    expect(await tryConnect('127.0.0.1', s.port)).toBe('ECONNREFUSED');
  });
});
