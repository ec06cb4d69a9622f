import { screen } from '@testing-library/react';
import { renderApp } from '../test-utils/render-app';

describe('Header', () => {
  beforeEach(() => {
    localStorage.clear();
    document.documentElement.className = '';
  });

  it('shows the app title and switches between light and dark', async () => {
    const { user } = await renderApp();
    expect(screen.getByRole('heading', { level: 1, name: 'VecSnap' })).toBeInTheDocument();
    const toggle = screen.getByRole('button', { name: 'Dark theme' });
    expect(toggle).toHaveAttribute('aria-pressed', 'false');
    expect(document.documentElement).toHaveClass('theme-light');
    await user.click(toggle);
    expect(toggle).toHaveAttribute('aria-pressed', 'true');
    expect(document.documentElement).toHaveClass('theme-dark');
    expect(document.documentElement).not.toHaveClass('theme-light');
  });

  it('starts dark when the system prefers it', async () => {
    const matchMedia = vi.fn((query: string) => ({ matches: query.includes('dark'), media: query }) as MediaQueryList);
    vi.stubGlobal('matchMedia', matchMedia);
    try {
      await renderApp();
      expect(screen.getByRole('button', { name: 'Dark theme' })).toHaveAttribute('aria-pressed', 'true');
      expect(document.documentElement).toHaveClass('theme-dark');
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
