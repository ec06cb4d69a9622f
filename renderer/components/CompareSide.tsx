import type { SnapshotMetadata } from '../../core/service/contract';
import { compressionOf, formatBytes, formatCount, shortChecksum } from '../format';

/** One snapshot of a comparison: its size as a bar (relative to the larger one) and its facts. */
export function CompareSide({ meta, largest }: { meta: SnapshotMetadata; largest: number }) {
  const size = formatBytes(meta.fileSize);
  const width = largest > 0 ? Math.max(1, (meta.fileSize / largest) * 100) : 0;
  return (
    <div className="compare-side">
      <h3>{meta.name}</h3>
      <div className="size-bar-track">
        <div className="size-bar" role="img" aria-label={`Size of ${meta.name}: ${size}`} style={{ width: `${width}%` }} />
      </div>
      <dl className="facts compact">
        <div>
          <dt>Size</dt>
          <dd>{size}</dd>
        </div>
        <div>
          <dt>Checksum</dt>
          <dd>
            <code title={meta.checksum}>{shortChecksum(meta.checksum)}</code>
          </dd>
        </div>
        <div>
          <dt>Vectors</dt>
          <dd>{formatCount(meta.vectorCount)}</dd>
        </div>
        <div>
          <dt>Dimension</dt>
          <dd>{meta.dimension}</dd>
        </div>
        <div>
          <dt>Format</dt>
          <dd>
            {meta.format}
            {compressionOf(meta) !== 'none' ? ` + ${compressionOf(meta)}` : ''}
          </dd>
        </div>
      </dl>
    </div>
  );
}
