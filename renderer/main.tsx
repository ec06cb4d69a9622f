import { createRoot } from 'react-dom/client';
import { App } from './App';
import { createWebPlatform } from './api/web-client';
import type { Platform } from './api/platform';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in the browser. */
    vecsnapPlatform?: Platform;
  }
}

async function boot(): Promise<void> {
  const root = createRoot(document.getElementById('root')!);
  try {
    const platform = window.vecsnapPlatform ?? (await createWebPlatform());
    root.render(<App platform={platform} />);
  } catch (err) {
    root.render(
      <main className="boot-error" role="alert">
        <h1>VecSnap could not start</h1>
        <p>{(err as Error).message}</p>
      </main>,
    );
  }
}

void boot();
