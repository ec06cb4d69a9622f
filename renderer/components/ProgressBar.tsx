/** A determinate progress bar: role="progressbar" named by `label`, its fill animated by width. */
export function ProgressBar({ label, value }: { label: string; value: number }) {
  const now = Math.round(Math.max(0, Math.min(100, value)));
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuenow={now} aria-valuemin={0} aria-valuemax={100}>
      <div className="progress-fill" style={{ width: `${now}%` }} />
    </div>
  );
}
