import { useApp, useSlice } from './AppContext';

/** The main actions: snapshot, compare, export the database, import a file. */
export function Toolbar() {
  const { actions, stores } = useApp();
  const selected = useSlice('selection', (s) => s.compare.length);
  return (
    <div className="toolbar">
      <button type="button" className="primary" onClick={() => stores.dialogs.getState().open({ type: 'create' })}>
        Create snapshot
      </button>
      <button
        type="button"
        disabled={selected !== 2}
        title={selected === 2 ? undefined : 'Select two snapshots to compare'}
        onClick={() => void actions.compare()}
      >
        Compare
      </button>
      <button type="button" onClick={() => actions.openExport({ kind: 'database' })}>
        Export…
      </button>
      <button type="button" onClick={() => void actions.chooseImport()}>
        Import…
      </button>
      <span className="muted toolbar-hint" aria-live="polite">
        {selected === 1 ? 'Select one more snapshot to compare.' : selected === 2 ? 'Two snapshots selected.' : ''}
      </span>
    </div>
  );
}
