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
import { InspectorHost } from './components/InspectorHost';
import { SnapshotTable } from './components/SnapshotTable';
import { Toolbar } from './components/Toolbar';


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
        <main className="main">
          <Alerts />
          <GetStarted />
          <div className="top-row">
            <DatabasePanel />
            <JobsPanel />
          </div>
          <section aria-label="Snapshot list" className="panel">
            <Toolbar />
            <SnapshotTable />
          </section>
          <CompareView />
          <InspectorHost />
        </main>
        <DialogHost />
        <DropZone />
      </div>
    </AppProvider>
  );
}
