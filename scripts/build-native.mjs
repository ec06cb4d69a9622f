/**
 * `postinstall`: builds the advice addon in native/advice (core/io/native-advice.ts says why).
 * VecSnap works the same without it, only writing new snapshot files and loading large databases
 * are slower on some machines, so a failed build warns and lets the install succeed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../native/advice');
if (process.platform !== 'linux') {
  console.log(`[vecsnap] advice addon: not used on ${process.platform}.`);
  process.exit(0);
}
// npm hands its own node-gyp to install scripts; run by hand, use the one npm ships with.
const gyp =
  process.env.npm_config_node_gyp ??
  path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
const gypArgs = ['rebuild'];
// Node's own headers: npm passes its nodedir setting to install scripts; by hand, use the headers
// installed beside this node, so node-gyp never tries to download them.
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(path.join(prefix, 'include/node/node_api.h'))) gypArgs.push(`--nodedir=${prefix}`);
const [cmd, args] = gyp.endsWith('.js') ? [process.execPath, [gyp, ...gypArgs]] : [gyp, gypArgs];
const run = existsSync(gyp)
  ? // A node-gyp that cannot find headers tries to download them: never let that hang an install.
    spawnSync(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 120_000 })
  : { status: 1, stdout: '', stderr: `node-gyp was not found at ${gyp}` };
if (run.status === 0) {
  console.log('[vecsnap] advice addon built (native/advice).');
} else {
  const tail = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n').slice(-6).join('\n');
  console.warn(
    '[vecsnap] the advice addon (native/advice) did not build. VecSnap works without it; ' +
      'only writing new snapshot files and loading large databases are slower on some machines.\n' + tail,
  );
}
