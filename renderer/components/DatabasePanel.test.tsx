import { screen, within } from '@testing-library/react';
import { renderApp } from '../test-utils/render-app';
import { createFakePlatform } from '../test-utils/fake-platform';
import { makeInfo } from '../test-utils/fixtures';

const panel = (): HTMLElement => screen.getByRole('region', { name: 'Database' });
const fact = (term: string): string | null => within(panel()).getByText(term).nextElementSibling?.textContent ?? null;

describe('Database panel', () => {
  it('shows the data folder and the database figures', async () => {
    const platform = createFakePlatform({
      info: { lastSave: { at: Date.now() - 120_000, path: '/data/vecsnap/database.bin', kind: 'full' }, notices: ['Removed the leftover of an interrupted write: database.bin.tmp-1.'] },
    });
    await renderApp(platform);
    expect(panel()).toHaveTextContent('/data/vecsnap');
    expect(fact('Vectors')).toBe('1,990');
    expect(fact('Dimension')).toBe('128');
    expect(fact('Metric')).toBe('cosine');
    expect(fact('Memory')).toBe('1.50 MB');
    expect(within(panel()).getByText('All changes saved')).toBeInTheDocument();
    expect(panel()).toHaveTextContent(/Last saved 2 minutes ago.*\(full\)/);
    expect(within(within(panel()).getByRole('list', { name: 'Notices' })).getByRole('listitem')).toHaveTextContent(
      'Removed the leftover of an interrupted write',
    );
  });

  it('marks unsaved changes, and follows workspace:changed events', async () => {
    const { platform } = await renderApp();
    await platform.emit({
      type: 'workspace:changed',
      info: makeInfo({ count: 2040, hasUnsavedChanges: true, changes: { added: 50, changed: 0, deleted: 0, needsFullSave: false } }),
    });
    expect(within(panel()).getByText('Unsaved changes')).toBeInTheDocument();
    expect(panel()).toHaveTextContent('50 added, 0 changed, 0 deleted');
    expect(fact('Vectors')).toBe('2,040');
  });

  it('saves in full or incrementally as jobs', async () => {
    const { user, platform } = await renderApp();
    await user.click(within(panel()).getByRole('button', { name: 'Save' }));
    expect(platform.api.saveDatabase).toHaveBeenLastCalledWith({ incremental: false });
    await platform.progress({ jobId: platform.lastJobId(), kind: 'save', label: 'Save', percentage: 5, current: 1, total: 20, message: '', elapsedMs: 10 });
    expect(within(panel()).getByRole('button', { name: 'Save incremental' })).toBeDisabled();
    await platform.finish({ jobId: platform.lastJobId(), kind: 'save', label: 'Save', state: 'done', elapsedMs: 20, result: { path: '/d/database.bin', kind: 'full' } });
    await user.click(within(panel()).getByRole('button', { name: 'Save incremental' }));
    expect(platform.api.saveDatabase).toHaveBeenLastCalledWith({ incremental: true });
    await platform.finish({ jobId: platform.lastJobId(), kind: 'save', label: 'Incremental save', state: 'done', elapsedMs: 20, result: { path: null, kind: 'nothing-to-save' } });
    expect(screen.getByText('Nothing to save: the files on disk are up to date.')).toBeInTheDocument();
  });

  it('switches auto-save on with the interval typed in seconds', async () => {
    const { user, platform } = await renderApp();
    const interval = within(panel()).getByLabelText('Auto-save interval (seconds)');
    expect(interval).toHaveValue(60);
    await user.clear(interval);
    await user.type(interval, '2');
    await user.click(within(panel()).getByLabelText('Auto-save'));
    expect(platform.api.setAutoSave).toHaveBeenCalledTimes(1);
    expect(platform.api.setAutoSave).toHaveBeenCalledWith({ enabled: true, intervalMs: 2000 });
    expect(within(panel()).getByLabelText('Auto-save')).toBeChecked();
    // A new interval alone is kept when the field is left.
    await user.clear(interval);
    await user.type(interval, '30');
    await user.tab();
    expect(platform.api.setAutoSave).toHaveBeenLastCalledWith({ enabled: true, intervalMs: 30_000 });
  });

  it('refuses an interval under one second', async () => {
    const { user, platform } = await renderApp();
    const interval = within(panel()).getByLabelText('Auto-save interval (seconds)');
    await user.clear(interval);
    await user.type(interval, '0');
    await user.tab();
    expect(interval).toHaveAttribute('aria-invalid', 'true');
    expect(within(panel()).getByText('At least 1 second.')).toBeInTheDocument();
    expect(platform.api.setAutoSave).not.toHaveBeenCalled();
  });

  it('puts the switch back when the backend refuses', async () => {
    const { user, platform } = await renderApp();
    platform.api.setAutoSave.mockResolvedValueOnce({ ok: false, error: { code: 'IO_ERROR', message: 'The settings could not be written.' } });
    await user.click(within(panel()).getByLabelText('Auto-save'));
    expect(await screen.findByText('The settings could not be written.')).toBeInTheDocument();
    expect(within(panel()).getByLabelText('Auto-save')).not.toBeChecked();
  });
});
