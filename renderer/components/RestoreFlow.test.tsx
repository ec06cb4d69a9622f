import { screen, within } from '@testing-library/react';
import { renderApp } from '../test-utils/render-app';
import { makeSnapshot } from '../test-utils/fixtures';

const row = (name: string): HTMLElement =>
  within(screen.getByRole('table', { name: 'Snapshots' })).getByRole('rowheader', { name }).closest('tr')!;

describe('Restore', () => {
  it('asks first, saying what will change and that a safety snapshot makes it undoable', async () => {
    const { user, platform } = await renderApp();
    await user.click(within(row('Initial import')).getByRole('button', { name: 'Restore' }));
    const dialog = screen.getByRole('dialog', { name: 'Restore snapshot' });
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    expect(dialog).toHaveTextContent(
      /^Restore snapshotThe database \(1,990 vectors\) will be replaced by “Initial import” \(666 vectors, taken 1 day ago\)\. A safety snapshot of the current database is taken first, so you can undo this\./,
    );
    // The careful choice has the focus.
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(platform.api.restoreSnapshot).not.toHaveBeenCalled();
  });

  it('restores, then "Undo restore" restores the safety snapshot without taking another', async () => {
    const { user, platform } = await renderApp();
    await user.click(within(row('Initial import')).getByRole('button', { name: 'Restore' }));
    await user.click(within(screen.getByRole('dialog', { name: 'Restore snapshot' })).getByRole('button', { name: 'Restore' }));
    expect(platform.api.restoreSnapshot).toHaveBeenCalledWith({ id: 'initial', safetySnapshot: true });
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();

    const restored = platform.state.snapshots.find((m) => m.id === 'initial')!;
    const safety = makeSnapshot({ id: 'safety-1', name: 'Before restoring "Initial import"', tags: ['safety'] });
    await platform.progress({
      jobId: platform.lastJobId(),
      kind: 'snapshot-restore',
      label: 'Restore "Initial import"',
      percentage: 50,
      current: 1,
      total: 2,
      message: 'Reading',
      elapsedMs: 100,
    });
    expect(screen.getByRole('progressbar', { name: 'Restore "Initial import"' })).toHaveAttribute('aria-valuenow', '50');
    await platform.finish({
      jobId: platform.lastJobId(),
      kind: 'snapshot-restore',
      label: 'Restore "Initial import"',
      state: 'done',
      elapsedMs: 200,
      result: { restored, safetySnapshot: safety },
    });
    expect(screen.getByText('Restored “Initial import”.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Undo restore' }));
    expect(platform.api.restoreSnapshot).toHaveBeenLastCalledWith({ id: 'safety-1', safetySnapshot: false });
    expect(screen.queryByRole('button', { name: 'Undo restore' })).not.toBeInTheDocument();
    await platform.finish({
      jobId: platform.lastJobId(),
      kind: 'snapshot-restore',
      label: 'Restore "Before restoring "Initial import""',
      state: 'done',
      elapsedMs: 200,
      result: { restored: safety },
    });
    expect(screen.getByText('Restore undone: the database is back as it was.')).toBeInTheDocument();
  });

  it('shows a refusal to start as one sentence, code kept, dismissible', async () => {
    const { user, platform } = await renderApp();
    platform.api.restoreSnapshot.mockResolvedValueOnce({
      ok: false,
      error: { code: 'BUSY', message: 'Wait for the running jobs to finish before restoring.' },
    });
    await user.click(within(row('Nightly')).getByRole('button', { name: 'Restore' }));
    await user.click(within(screen.getByRole('dialog', { name: 'Restore snapshot' })).getByRole('button', { name: 'Restore' }));
    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent('Wait for the running jobs to finish before restoring.');
    expect(alert).toHaveAttribute('data-code', 'BUSY');
    await user.click(within(alert).getByRole('button', { name: 'Dismiss' }));
    expect(screen.getByRole('alert')).toBeEmptyDOMElement();
  });
});
