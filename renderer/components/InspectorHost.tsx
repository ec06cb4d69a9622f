import { useSlice } from './AppContext';
import { SnapshotInspector } from './SnapshotInspector';

/** Shows the inspector for the inspected snapshot; another snapshot starts afresh at its first page. */
export function InspectorHost() {
  const id = useSlice('selection', (s) => s.inspected);
  return id === null ? null : <SnapshotInspector key={id} id={id} />;
}
