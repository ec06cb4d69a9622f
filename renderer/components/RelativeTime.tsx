import { useSyncExternalStore } from 'react';
import { formatIso, formatRelative } from '../format';

// One shared clock for every relative time on the page, ticking while any is shown.
const TICK_MS = 30_000;
const listeners = new Set<() => void>();
let now = Date.now();
let timer: ReturnType<typeof setInterval> | undefined;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (!timer) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, TICK_MS);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

function snapshot(): number {
  // Without a running clock the last value may be old: renew it (once, so reads agree).
  if (!timer && Date.now() - now > 1000) now = Date.now();
  return now;
}

/** The current time, updated every 30 s. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, snapshot);
}

/**
 * "5 minutes ago", with the exact ISO time as tooltip; focusable, so that the exact time shows
 * on keyboard focus as on hover.
 */
export function RelativeTime({ timestamp }: { timestamp: number }) {
  const current = useNow();
  const iso = formatIso(timestamp);
  return (
    <span className="time" tabIndex={0} title={iso}>
      <time dateTime={iso}>{formatRelative(timestamp, current)}</time>
      <span className="time-exact" aria-hidden="true">
        {iso}
      </span>
    </span>
  );
}
