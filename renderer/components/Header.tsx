import { ThemeToggle } from './ThemeToggle';

export function Header() {
  return (
    <header className="app-header">
      <h1>VecSnap</h1>
      <span className="tagline">Snapshots of your vector database</span>
      <ThemeToggle />
    </header>
  );
}
