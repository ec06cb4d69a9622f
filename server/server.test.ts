import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { tempDir } from '../core/test-helpers/fixtures.js';
import type { WireMessage } from '../core/service/contract.js';
import { parseServeArgs } from './args.js';
import { startServer, type RunningServer } from './server.js';

let dir: string;
let cleanup: () => void;
let server: RunningServer;
let base: string;
const TOKEN = 'test-token-0123456789';

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  const staticDir = path.join(dir, 'static');
  mkdirSync(staticDir);
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>VecSnap</title>');
  writeFileSync(path.join(dir, 'secret.txt'), 'do not serve');
  server = await startServer({ dataDir: path.join(dir, 'data'), staticDir, token: TOKEN, maxUploadBytes: 10_000 });
  base = `http://127.0.0.1:${server.port}`;
});
afterEach(async () => {
  await server.close();
  cleanup();
});

function socket(query = `?token=${TOKEN}`): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${query}`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

function nextMessage(ws: WebSocket, predicate: (m: WireMessage) => boolean = () => true): Promise<WireMessage> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const msg = JSON.parse(data.toString()) as WireMessage;
      if (predicate(msg)) {
        ws.off('message', onMessage);
        resolve(msg);
      }
    };
    ws.on('message', onMessage);
  });
}

describe('server', () => {
  it('listens on 127.0.0.1 and prints a URL with the token', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${TOKEN}`);
    expect(parseServeArgs([])).toMatchObject({ host: '127.0.0.1' });
    expect(parseServeArgs(['--port', 'x'])).toHaveProperty('help');
  });

  it('refuses every request without the token (401) and accepts the cookie set by the page load', async () => {
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/api/env`)).status).toBe(401);
    expect((await fetch(`${base}/api/env?token=wrong-token-0123456789`)).status).toBe(401);
    const page = await fetch(`${base}/?token=${TOKEN}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const env = await fetch(`${base}/api/env`, { headers: { cookie } });
    expect(await env.json()).toMatchObject({ platform: 'web', dataDir: path.join(dir, 'data') });
  });

  it('never serves files outside the UI folder', async () => {
    const res = await fetch(`${base}/..%2Fsecret.txt?token=${TOKEN}`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('do not serve');
  });

  it('rejects a socket without the token, and answers calls on one with it', async () => {
    await expect(socket('')).rejects.toThrow(/401/);
    const ws = await socket();
    ws.send(JSON.stringify({ type: 'call', id: 1, method: 'workspaceInfo' }));
    const reply = await nextMessage(ws);
    expect(reply).toMatchObject({ type: 'result', id: 1, result: { ok: true, value: { count: 0 } } });
    ws.close();
  });

  it('survives malformed and unknown messages with a clear error', async () => {
    const ws = await socket();
    ws.send('not json');
    expect(await nextMessage(ws)).toMatchObject({ type: 'error', message: expect.stringContaining('JSON') });
    ws.send(JSON.stringify({ hello: 1 }));
    expect(await nextMessage(ws)).toMatchObject({ type: 'error' });
    ws.send(JSON.stringify({ type: 'call', id: 2, method: 'rmRf' }));
    expect(await nextMessage(ws)).toMatchObject({ result: { ok: false, error: { code: 'INVALID_ARGUMENT' } } });
    ws.send(JSON.stringify({ type: 'call', id: 3, method: 'listSnapshots' }));
    expect(await nextMessage(ws)).toMatchObject({ id: 3, result: { ok: true, value: [] } });
    ws.close();
  });

  it('keeps browser paths inside its transfer folders', async () => {
    const ws = await socket();
    ws.send(JSON.stringify({ type: 'call', id: 1, method: 'exportDatabase', request: { path: '/tmp/evil.json', format: 'json', compression: 'none' } }));
    expect(await nextMessage(ws)).toMatchObject({ result: { ok: false, error: { code: 'INVALID_ARGUMENT' } } });
    ws.send(JSON.stringify({ type: 'call', id: 2, method: 'importFile', request: { path: path.join(dir, 'secret.txt'), clear: true } }));
    expect(await nextMessage(ws)).toMatchObject({ result: { ok: false, error: { code: 'INVALID_ARGUMENT' } } });
    ws.send(JSON.stringify({ type: 'call', id: 3, method: 'openWorkspace', request: { dir: '/' } }));
    expect(await nextMessage(ws)).toMatchObject({ result: { ok: false, error: { code: 'INVALID_ARGUMENT' } } });
    ws.close();
  });

  it('streams uploads in, refuses oversized ones, and streams exports out', async () => {
    const body = Buffer.from('{"version":"1.0.0","options":{"dimension":2},"vectors":[{"id":"a","vector":[1,2]}]}');
    const up = await fetch(`${base}/api/upload?name=../../x.json&token=${TOKEN}`, { method: 'POST', body });
    const uploaded = (await up.json()) as { ok: boolean; value: { path: string; bytes: number } };
    expect(uploaded.ok).toBe(true);
    expect(path.dirname(uploaded.value.path)).toBe(path.join(dir, 'data', 'transfers', 'uploads'));
    expect(readFileSync(uploaded.value.path).equals(body)).toBe(true);

    const big = await fetch(`${base}/api/upload?name=big.bin&token=${TOKEN}`, { method: 'POST', body: Buffer.alloc(20_000) });
    expect(big.status).toBe(413);

    const ws = await socket();
    ws.send(JSON.stringify({ type: 'call', id: 1, method: 'importFile', request: { path: uploaded.value.path, clear: true } }));
    const imported = await nextMessage(ws, (m) => m.type === 'event' && m.event.type === 'jobs:finished');
    expect(imported).toMatchObject({ event: { finished: { state: 'done', result: { imported: 1 } } } });
    const target = path.join(dir, 'data', 'transfers', 'exports', 'out.bin');
    ws.send(JSON.stringify({ type: 'call', id: 2, method: 'exportDatabase', request: { path: target, format: 'binary', compression: 'none' } }));
    const finished = await nextMessage(ws, (m) => m.type === 'event' && m.event.type === 'jobs:finished');
    expect(finished).toMatchObject({ event: { finished: { state: 'done', result: { vectorCount: 1 } } } });
    const down = await fetch(`${base}/api/download?name=out.bin&token=${TOKEN}`);
    expect(down.status).toBe(200);
    expect(Buffer.from(await down.arrayBuffer()).equals(readFileSync(target))).toBe(true);
    expect((await fetch(`${base}/api/download?name=..%2F..%2Fvecsnap.json&token=${TOKEN}`)).status).toBe(400);
    ws.close();
  });
});
