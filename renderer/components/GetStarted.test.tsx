import { screen, within } from '@testing-library/react';
import { renderApp } from '../test-utils/render-app';
import { createFakePlatform } from '../test-utils/fake-platform';
import { makeInfo, sampleSnapshots } from '../test-utils/fixtures';

describe('First run', () => {
  it('an empty data folder offers sample data; the job shows in the Jobs panel; then the offer goes away', async () => {
    const platform = createFakePlatform({ snapshots: [], info: { count: 0, snapshotCount: 0, dimension: 0 } });
    const { user } = await renderApp(platform);
    const start = screen.getByRole('region', { name: 'Get started' });
    expect(start).toHaveTextContent('This data folder is empty.');
    await user.click(within(start).getByRole('button', { name: 'Generate sample data' }));
    expect(platform.api.generateSampleData).toHaveBeenCalledWith({});
    await platform.progress({
      jobId: platform.lastJobId(),
      kind: 'sample',
      label: 'Generate sample data',
      percentage: 33,
      current: 1,
      total: 3,
      message: 'Snapshot 1 of 3',
      elapsedMs: 500,
    });
    const jobs = screen.getByRole('region', { name: 'Jobs' });
    expect(within(jobs).getByRole('progressbar', { name: 'Generate sample data' })).toHaveAttribute('aria-valuenow', '33');
    expect(within(start).getByRole('button', { name: 'Generate sample data' })).toBeDisabled();

    platform.state.info = makeInfo({ count: 2990, snapshotCount: 3 });
    platform.state.snapshots = sampleSnapshots();
    await platform.finish({
      jobId: platform.lastJobId(),
      kind: 'sample',
      label: 'Generate sample data',
      state: 'done',
      elapsedMs: 900,
      result: { count: 2990, dimension: 128, snapshots: platform.state.snapshots },
    });
    expect(within(jobs).getByRole('listitem')).toHaveTextContent('Done');
    expect(screen.queryByRole('region', { name: 'Get started' })).not.toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Database' })).toHaveTextContent('2,990');
    expect(screen.getByRole('rowheader', { name: 'Nightly' })).toBeInTheDocument();
    expect(screen.getByText('Sample data ready: 2,990 vectors and 3 snapshots.')).toBeInTheDocument();
  });

  it('is not offered when the folder has data', async () => {
    await renderApp();
    expect(screen.queryByRole('region', { name: 'Get started' })).not.toBeInTheDocument();
  });
});
