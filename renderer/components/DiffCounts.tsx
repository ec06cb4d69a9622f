import type { ContentDiff } from '../../core/service/contract';
import { formatCount } from '../format';

const KINDS = [
  ['Added', 'added', 'Ids only in the newer snapshot'],
  ['Removed', 'removed', 'Ids only in the older snapshot'],
  ['Changed', 'changed', 'Same id, different vector or metadata'],
  ['Unchanged', 'unchanged', ''],
] as const;

/** Added / removed / changed / unchanged counts, each with a sample of ids. */
export function DiffCounts({ diff }: { diff: ContentDiff }) {
  return (
    <dl className="diff">
      {KINDS.map(([label, key, hint]) => {
        const samples = key === 'unchanged' ? [] : diff.samples[key];
        return (
          <div key={key} className={`diff-stat diff-${key}`}>
            <dt title={hint || undefined}>{label}</dt>
            <dd className="diff-count">{formatCount(diff[key])}</dd>
            {samples.length > 0 && (
              <dd>
                <ul className="samples" aria-label={`Sample of ${label.toLowerCase()} ids`}>
                  {samples.map((id) => (
                    <li key={id}>
                      <code>{id}</code>
                    </li>
                  ))}
                </ul>
                {diff[key] > samples.length && <span className="muted">and {formatCount(diff[key] - samples.length)} more</span>}
              </dd>
            )}
          </div>
        );
      })}
    </dl>
  );
}
