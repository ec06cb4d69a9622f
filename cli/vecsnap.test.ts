import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../core/test-helpers/fixtures.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'dist/app/cli/vecsnap.js');

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

function vecsnap(...args: string[]): { code: number; out: string; err: string; json: () => unknown } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr, json: () => JSON.parse(r.stdout) };
}

describe('vecsnap (subprocess)', () => {
  it('create → list → verify → corrupt one byte → verify fails (exit 3) → restore → export → import', () => {
    expect(existsSync(bin), 'run `npm run build` first (npm test does)').toBe(true);
    const data = path.join(dir, 'data');
    expect(vecsnap('sample', '--dir', data, '--count', '600', '--dimension', '8', '--quiet').code).toBe(0);
    const created = vecsnap('snapshot', 'create', 'nightly', '--dir', data, '--note', 'cron', '--tags', 'a,b', '--format', 'sqlite', '--json');
    expect(created.code).toBe(0);
    const snap = created.json() as { id: string; name: string; file: string; vectorCount: number };
    expect(snap).toMatchObject({ name: 'nightly', vectorCount: 590 });

    const list = vecsnap('snapshot', 'list', '--dir', data, '--json').json() as { id: string }[];
    expect(list[0]!.id).toBe(snap.id);
    expect(vecsnap('snapshot', 'list', '--dir', data).out).toContain('nightly');

    expect(vecsnap('snapshot', 'verify', snap.id, '--dir', data).code).toBe(0);
    const file = path.join(data, 'snapshots', snap.file);
    const bytes = readFileSync(file);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0x01;
    writeFileSync(file, bytes);
    const bad = vecsnap('snapshot', 'verify', snap.id, '--dir', data);
    expect(bad.code).toBe(3);
    expect(bad.out).toMatch(/damaged/);
    // A damaged snapshot is refused by restore too, with the integrity exit code.
    expect(vecsnap('snapshot', 'restore', snap.id, '--dir', data).code).toBe(3);

    const older = list.find((s) => s.id !== snap.id)!;
    const restored = vecsnap('snapshot', 'restore', older.id, '--dir', data, '--json');
    expect(restored.code).toBe(0);
    expect(vecsnap('info', '--dir', data, '--json').json()).toMatchObject({ count: (restored.json() as { restored: { vectorCount: number } }).restored.vectorCount });

    const out = path.join(dir, 'out.json.gz');
    expect(vecsnap('export', out, '--dir', data, '--format', 'json', '--compression', 'gzip').code).toBe(0);
    expect(vecsnap('inspect', out, '--dir', data, '--json').json()).toMatchObject({ format: 'json', compression: 'gzip', verified: true });
    const other = path.join(dir, 'other');
    const imported = vecsnap('import', out, '--dir', other, '--json');
    expect(imported.code).toBe(0);
    expect(vecsnap('info', '--dir', other, '--json').json()).toMatchObject({ count: (imported.json() as { count: number }).count, hasUnsavedChanges: false });
  });

  it('the cron line: snapshot, verify, prune to --keep N (pinned ones stay)', () => {
    const data = path.join(dir, 'data');
    expect(vecsnap('sample', '--dir', data, '--count', '100', '--dimension', '4', '--quiet').code).toBe(0);
    const before = vecsnap('snapshot', 'list', '--dir', data, '--json').json() as { id: string }[];
    expect(before.length).toBe(3);
    const oldest = before.at(-1)!.id;
    expect(vecsnap('snapshot', 'pin', oldest, '--dir', data).code).toBe(0);
    const zero = vecsnap('snapshot', 'create', 'never', '--keep', '0', '--dir', data);
    expect(zero.code).toBe(2);
    expect(zero.err).toContain('--keep must be a whole number from 1');
    const snap = vecsnap('snapshot', 'create', 'nightly', '--keep', '2', '--dir', data, '--json').json() as { id: string };
    expect(vecsnap('snapshot', 'verify', snap.id, '--dir', data).code).toBe(0);
    const after = vecsnap('snapshot', 'list', '--dir', data, '--json').json() as { id: string; name: string }[];
    expect(after.map((s) => s.id)).toEqual([snap.id, before[0]!.id, oldest]);
  });

  it('distinguishes bad input (2) and prints help', () => {
    expect(vecsnap('--help').code).toBe(0);
    expect(vecsnap('--help').out).toContain('Exit codes');
    for (const cmd of ['info', 'save', 'snapshot', 'compare', 'inspect', 'export', 'import', 'sample', 'serve']) {
      const help = vecsnap(cmd, '--help');
      expect(help.code).toBe(0);
      expect(help.out).toContain(`Usage: vecsnap ${cmd}`);
    }
    expect(vecsnap('frobnicate', '--dir', dir).code).toBe(2);
    // A typo in an option, a value option without its value, or a non-number must not run with defaults.
    const typo = vecsnap('export', path.join(dir, 'x.bin'), '--compresion', 'gzip', '--dir', dir);
    expect(typo.code).toBe(2);
    expect(typo.err).toContain('Unknown option --compresion');
    expect(existsSync(path.join(dir, 'x.bin'))).toBe(false);
    expect(vecsnap('snapshot', 'create', 'x', '--format', '--dir', dir).err).toContain('--format needs a value');
    const count = vecsnap('sample', '--count', '12abc', '--dir', path.join(dir, 'never'));
    expect(count.code).toBe(2);
    expect(count.err).toContain('--count must be a whole number');
    // Refused before any work: the data folder was not even created.
    expect(existsSync(path.join(dir, 'never'))).toBe(false);
    // A switch with a value, or a stray word after it, must not run as "on".
    const clearFalse = vecsnap('import', path.join(dir, 'x.bin'), '--clear=false', '--dir', dir);
    expect(clearFalse.code).toBe(2);
    expect(clearFalse.err).toContain('--clear is a switch');
    const stray = vecsnap('import', path.join(dir, 'x.bin'), '--clear', 'false', '--dir', dir);
    expect(stray.code).toBe(2);
    expect(stray.err).toContain('Unexpected argument "false"');
    // Options belong to their subcommand; inherited object keys are not commands.
    expect(vecsnap('snapshot', 'delete', 'some-id', '--note', 'x', '--dir', dir).err).toContain('Unknown option --note');
    expect(vecsnap('toString', '--dir', dir).code).toBe(2);
    const missing = vecsnap('snapshot', 'restore', 'no-such-id', '--dir', dir);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no-such-id');
    expect(vecsnap('import', path.join(dir, 'nope.bin'), '--dir', dir).code).toBe(2);
  });

  it('exits 4 on an I/O failure, and the data folder keeps what it had', () => {
    const data = path.join(dir, 'data');
    expect(vecsnap('sample', '--dir', data, '--count', '50', '--dimension', '4', '--quiet').code).toBe(0);
    const before = vecsnap('info', '--dir', data, '--json').json();
    // A target whose parent is a regular file: the write fails with ENOTDIR, an I/O error.
    const blocker = path.join(dir, 'not-a-folder');
    writeFileSync(blocker, 'x');
    const failed = vecsnap('export', path.join(blocker, 'out.bin'), '--dir', data);
    expect(failed.code).toBe(4);
    expect(failed.err).toMatch(/IO_ERROR/);
    expect(readFileSync(blocker, 'utf8')).toBe('x');
    expect(vecsnap('info', '--dir', data, '--json').json()).toEqual(before);
  });
});
