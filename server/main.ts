import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDataDir, parseServeArgs } from './args.js';
import { startServer } from './server.js';

const here = path.dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const args = parseServeArgs(process.argv.slice(2));
  if ('help' in args) {
    console.log(args.help);
    return;
  }
  const running = await startServer({
    dataDir: args.dir ?? defaultDataDir(),
    host: args.host,
    ...(args.port !== undefined ? { port: args.port } : {}),
    // dist/app/server/main.js → dist/renderer
    staticDir: path.resolve(here, '../../renderer'),
  });
  console.log(`VecSnap is serving ${running.service.dataDir}`);
  console.log(`Open ${running.url}`);
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    console.log('Stopping: waiting for running jobs and saving…');
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`Could not save on exit: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
