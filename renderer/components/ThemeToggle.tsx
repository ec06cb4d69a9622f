import { useEffect, useState } from 'react';

const KEY = 'vecsnap.theme';

function initialDark(): boolean {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved === 'dark' || saved === 'light') return saved === 'dark';
  } catch {
    // Storage may be unavailable; fall back to the system setting.
  }
  return typeof window.matchMedia === 'function' && window.matchMedia('(prefers-color-scheme: dark)').matches;
}

/** Light or dark: a class on <html> switches the CSS variables. */
export function ThemeToggle() {
  const [dark, setDark] = useState(initialDark);

  useEffect(() => {
    const html = document.documentElement;
    html.classList.toggle('theme-dark', dark);
    html.classList.toggle('theme-light', !dark);
  }, [dark]);

  const toggle = (): void => {
    const next = !dark;
    setDark(next);
    try {
      localStorage.setItem(KEY, next ? 'dark' : 'light');
    } catch {
      // Not remembered; the toggle still works.
    }
  };

  return (
    <button type="button" className="theme-toggle" aria-pressed={dark} onClick={toggle}>
      Dark theme
    </button>
  );
}
