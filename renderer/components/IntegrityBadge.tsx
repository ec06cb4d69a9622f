import type { SnapshotMetadata } from '../../core/service/contract';
import { formatIso } from '../format';

const TEXT = { verified: 'Verified', mismatch: 'Mismatch', missing: 'Missing file', unverified: 'Unverified' } as const;
const HINT = {
  verified: 'The file matches the checksum recorded when the snapshot was taken.',
  mismatch: 'The file does not match its recorded checksum: it was changed or damaged.',
  missing: 'The snapshot file is missing from the snapshots folder.',
  unverified: 'Not checked yet: use Verify.',
} as const;

export function IntegrityBadge({ integrity }: { integrity: SnapshotMetadata['integrity'] }) {
  const state = integrity?.state ?? 'unverified';
  const when = integrity?.checkedAt ? ` Checked ${formatIso(integrity.checkedAt)}.` : '';
  return (
    <span className={`badge badge-${state}`} title={HINT[state] + when}>
      {TEXT[state]}
    </span>
  );
}
