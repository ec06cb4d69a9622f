import { useEffect, useState } from 'react';
import type { Platform } from './api/platform';
import { createActions } from './store/actions';
import { createStores } from './store/index';
import { Alerts } from './components/Alerts';
import { AppProvider, type AppServices } from './components/AppContext';
import { CompareView } from './components/CompareView';
import { DatabasePanel } from './components/DatabasePanel';
import { DialogHost } from './components/DialogHost';
import { DropZone } from './components/DropZone';
import { GetStarted } from './components/GetStarted';
import { Header } from './components/Header';
import { JobsPanel } from './components/JobsPanel';
import { SnapshotInspector } from './components/SnapshotInspector';
import { SnapshotTable } from './components/SnapshotTable';
import { Toolbar } from './components/Toolbar';

/** The window's icon (a data URL, so the browser never asks the server for /favicon.ico). */
const ICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%232457d6'/%3E%3Cpath d='M8 9l8 15 8-15' fill='none' stroke='white' stroke-width='3.5' stroke-linecap='round' stroke-linejoin='round'/%3E%3C/svg%3E";

function installIcon(): void {
  if (typeof document === 'undefined' || document.querySelector('link[rel~="icon"]')) return;
  const link = document.createElement('link');
  link.rel = 'icon';
  link.href = ICON;
  document.head.append(link);
}
// At load, before the browser looks for an icon.
installIcon();

function createServices(platform: Platform): AppServices {
  const stores = createStores(platform.api);
  return { platform, stores, actions: createActions(platform, stores) };
}

/** VecSnap's one window: its stores live and die with this component. */
export function App({ platform }: { platform: Platform }) {
  const [services] = useState(() => createServices(platform));

  useEffect(() => services.actions.connect(), [services]);

  return (
    <AppProvider value={services}>
      <div className="app">
        <Header />
        <div className="layout">
          <main className="main">
            <Alerts />
            <GetStarted />
            <DatabasePanel />
            <section aria-label="Snapshot list" className="panel">
              <Toolbar />
              <SnapshotTable />
            </section>
            <CompareView />
            <SnapshotInspector />
          </main>
          <aside className="side">
            <JobsPanel />
          </aside>
        </div>
        <DialogHost />
        <DropZone />
      </div>
    </AppProvider>
  );
}
