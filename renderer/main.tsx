import { createRoot } from 'react-dom/client';
import { App } from './App';
import { createElectronPlatform } from './api/electron-client';
import { createWebPlatform } from './api/web-client';

async function boot(): Promise<void> {
  const root = createRoot(document.getElementById('root')!);
  try {
    // The Electron preload exposes window.vecsnap; in a browser the server is the backend.
    const platform =
      window.vecsnap && window.vecsnapDesktop
        ? createElectronPlatform(window.vecsnap, window.vecsnapDesktop)
        : await createWebPlatform();
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
