import { screen, within } from '@testing-library/react';
import { renderApp } from '../test-utils/render-app';
import { finished, progress } from '../test-utils/fixtures';

const jobs = (): HTMLElement => screen.getByRole('region', { name: 'Jobs' });
const item = (label: string): HTMLElement => within(jobs()).getByText(label).closest('li')!;

describe('JobsPanel', () => {
  it('shows a running job as a progress bar with percentage, throughput and time left', async () => {
    const { platform } = await renderApp();
    await platform.progress(
      progress('j1', { percentage: 41.6, throughput: 12.3 * 1024 * 1024, throughputUnit: 'B/s', etaMs: 4200 }),
    );
    const job = item('Export database');
    const bar = within(job).getByRole('progressbar', { name: 'Export database' });
    expect(bar).toHaveAttribute('aria-valuenow', '42');
    expect(bar).toHaveAttribute('aria-valuemin', '0');
    expect(bar).toHaveAttribute('aria-valuemax', '100');
    expect(job).toHaveTextContent('42%');
    expect(job).toHaveTextContent('12.3 MB/s');
    expect(job).toHaveTextContent('about 5 s left');

    await platform.progress(progress('j1', { percentage: 60, throughput: 4000, throughputUnit: 'items/s', etaMs: 125_000 }));
    expect(within(item('Export database')).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '60');
    expect(item('Export database')).toHaveTextContent('4,000 items/s');
    expect(item('Export database')).toHaveTextContent('about 2 min left');
  });

  it('lists jobs newest first', async () => {
    const { platform } = await renderApp();
    await platform.progress(progress('a', { label: 'Save', kind: 'save' }));
    await platform.progress(progress('b', { label: 'Compare snapshots', kind: 'snapshot-compare' }));
    const labels = within(jobs())
      .getAllByRole('listitem')
      .map((li) => within(li).getByRole('progressbar').getAttribute('aria-label'));
    expect(labels).toEqual(['Compare snapshots', 'Save']);
  });

  it('cancels a running job with its Cancel button', async () => {
    const { platform, user } = await renderApp();
    await platform.progress(progress('j9'));
    await user.click(within(item('Export database')).getByRole('button', { name: 'Cancel' }));
    expect(platform.api.cancelJob).toHaveBeenCalledWith({ jobId: 'j9' });
    await platform.finish(finished('j9', { state: 'cancelled' }));
    expect(item('Export database')).toHaveTextContent('Cancelled');
    expect(within(item('Export database')).queryByRole('button', { name: 'Cancel' })).not.toBeInTheDocument();
  });

  it('says how each job ended: Done, Cancelled or Failed with the reason', async () => {
    const { platform } = await renderApp();
    await platform.progress(progress('a', { label: 'Save', kind: 'save' }));
    await platform.finish(finished('a', { label: 'Save', kind: 'save', state: 'done', result: { path: '/d/database.bin', kind: 'full' } }));
    await platform.finish(
      finished('b', { label: 'Import', kind: 'import', state: 'failed', error: { code: 'CORRUPT_FILE', message: 'The file is damaged.' } }),
    );
    expect(item('Save')).toHaveTextContent('Done');
    expect(within(item('Save')).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
    expect(item('Import')).toHaveTextContent('Failed: The file is damaged.');
    // A failed job is also told in the alert area, with its code kept.
    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent('The file is damaged.');
    expect(alert).toHaveAttribute('data-code', 'CORRUPT_FILE');
  });

  it('refreshes the database and the snapshot list after any job finishes', async () => {
    const { platform } = await renderApp();
    platform.api.workspaceInfo.mockClear();
    platform.api.listSnapshots.mockClear();
    await platform.finish(finished('x'));
    expect(platform.api.workspaceInfo).toHaveBeenCalled();
    expect(platform.api.listSnapshots).toHaveBeenCalled();
  });

  it('clears finished jobs on request', async () => {
    const { platform, user } = await renderApp();
    await platform.progress(progress('run', { label: 'Save', kind: 'save' }));
    await platform.finish(finished('end'));
    await user.click(within(jobs()).getByRole('button', { name: 'Clear finished' }));
    expect(within(jobs()).getAllByRole('listitem')).toHaveLength(1);
    expect(within(jobs()).getByText('Save')).toBeInTheDocument();
  });
});
