import { screen, within } from '@testing-library/react';
import { renderApp } from '../test-utils/render-app';

const row = (name: string): HTMLElement =>
  within(screen.getByRole('table', { name: 'Snapshots' })).getByRole('rowheader', { name }).closest('tr')!;

describe('Snapshot inspector', () => {
  it('pages through ids, metadata and vector previews', async () => {
    const { user, platform } = await renderApp();
    await user.click(within(row('Nightly')).getByRole('button', { name: 'Inspect' }));
    const inspector = screen.getByRole('region', { name: 'Snapshot contents' });
    expect(await within(inspector).findByText('Entries 1–50 of 1,990')).toBeInTheDocument();
    expect(platform.api.readSnapshotPage).toHaveBeenLastCalledWith({ id: 'nightly', offset: 0, limit: 50 });
    const entries = within(inspector).getByRole('table', { name: 'Entries' });
    for (const column of ['Id', 'Metadata', 'Vector']) expect(within(entries).getByRole('columnheader', { name: column })).toBeInTheDocument();
    const rows = within(entries).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(50);
    expect(rows[0]).toHaveTextContent('doc-000000');
    expect(rows[0]).toHaveTextContent('{"topic":"billing","n":0}');
    expect(rows[0]).toHaveTextContent('[0.1235, -0.5000, 0.2500, 1.0000, 0.0000, 0.1000, 0.2000, 0.3000, …]');
    expect(rows[0]).toHaveTextContent('norm 1.2346');
    const previous = within(inspector).getByRole('button', { name: 'Previous page' });
    const next = within(inspector).getByRole('button', { name: 'Next page' });
    expect(previous).toBeDisabled();

    await user.click(next);
    expect(await within(inspector).findByText('Entries 51–100 of 1,990')).toBeInTheDocument();
    expect(within(entries).getAllByRole('row')[1]).toHaveTextContent('doc-000050');
    expect(previous).toBeEnabled();
    for (let i = 0; i < 38; i++) await user.click(next);
    expect(await within(inspector).findByText('Entries 1,951–1,990 of 1,990')).toBeInTheDocument();
    expect(next).toBeDisabled();

    await user.click(within(inspector).getByRole('button', { name: 'Close inspector' }));
    expect(screen.queryByRole('region', { name: 'Snapshot contents' })).not.toBeInTheDocument();
  });

  it('starts at the first page again for another snapshot', async () => {
    const { user, platform } = await renderApp();
    await user.click(within(row('Nightly')).getByRole('button', { name: 'Inspect' }));
    const inspector = screen.getByRole('region', { name: 'Snapshot contents' });
    await user.click(await within(inspector).findByRole('button', { name: 'Next page' }));
    expect(await within(inspector).findByText('Entries 51–100 of 1,990')).toBeInTheDocument();
    await user.click(within(row('Initial import')).getByRole('button', { name: 'Inspect' }));
    const next = screen.getByRole('region', { name: 'Snapshot contents' });
    expect(await within(next).findByText('Entries 1–50 of 666')).toBeInTheDocument();
    expect(next).toHaveTextContent('Contents of “Initial import”');
    expect(platform.api.readSnapshotPage).toHaveBeenLastCalledWith({ id: 'initial', offset: 0, limit: 50 });
  });

  it('shows a read error as an alert', async () => {
    const { user, platform } = await renderApp();
    platform.api.readSnapshotPage.mockResolvedValueOnce({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'The file of snapshot "Added support articles" is missing.' },
    });
    await user.click(within(row('Added support articles')).getByRole('button', { name: 'Inspect' }));
    const alert = await screen.findByText('The file of snapshot "Added support articles" is missing.');
    expect(alert.closest('[role="alert"]')).toHaveAttribute('data-code', 'NOT_FOUND');
  });
});
