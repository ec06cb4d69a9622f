import type { VecSnapApi } from '../../core/service/contract';
import { createAlertsStore, type AlertsStore } from './alerts';
import { createComparisonStore, type ComparisonStore } from './comparison';
import { createDialogsStore, type DialogsStore } from './dialogs';
import { createJobsStore, type JobsStore } from './jobs';
import { createSelectionStore, type SelectionStore } from './selection';
import { createSnapshotsStore, type SnapshotsStore } from './snapshots';
import { createWorkspaceStore, type WorkspaceStore } from './workspace';

/** Every store of one App instance (created per instance, so tests never share state). */
export interface Stores {
  workspace: WorkspaceStore;
  snapshots: SnapshotsStore;
  jobs: JobsStore;
  selection: SelectionStore;
  alerts: AlertsStore;
  dialogs: DialogsStore;
  comparison: ComparisonStore;
}

export function createStores(api: VecSnapApi): Stores {
  const alerts = createAlertsStore();
  const report = alerts.getState().showError;
  return {
    alerts,
    workspace: createWorkspaceStore(api, report),
    snapshots: createSnapshotsStore(api, report),
    jobs: createJobsStore(),
    selection: createSelectionStore(),
    dialogs: createDialogsStore(),
    comparison: createComparisonStore(),
  };
}
