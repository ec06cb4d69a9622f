import { screen, within } from '@testing-library/react';
import { renderApp } from '../test-utils/render-app';
import { createFakePlatform } from '../test-utils/fake-platform';
import { makeSnapshot, sampleSnapshots } from '../test-utils/fixtures';

const table = (): HTMLElement => screen.getByRole('table', { name: 'Snapshots' });
const bodyRows = (): HTMLElement[] => within(table()).getAllByRole('row').slice(1);
const rowNames = (): string[] => bodyRows().map((r) => within(r).getByRole('rowheader').textContent ?? '');
const row = (name: string): HTMLElement => within(table()).getByRole('rowheader', { name }).closest('tr')!;

describe('SnapshotTable', () => {
  it('shows every column and lists snapshots newest first', async () => {
    await renderApp();
    for (const column of ['Select', 'Name', 'Note / tags', 'Created', 'Vectors', 'Dimension', 'Format', 'Compression', 'Size', 'Checksum', 'Integrity', 'Pinned', 'Actions']) {
      expect(within(table()).getByRole('columnheader', { name: column })).toBeInTheDocument();
    }
    expect(rowNames()).toEqual(['Nightly', 'Added support articles', 'Initial import']);
    expect(within(table()).getByRole('columnheader', { name: 'Created' })).toHaveAttribute('aria-sort', 'descending');
    const nightly = row('Nightly');
    expect(nightly).toHaveTextContent('5 minutes ago');
    expect(nightly).toHaveTextContent('1,990');
    expect(nightly).toHaveTextContent('3.00 MB');
    expect(nightly).toHaveTextContent('Sample data');
    expect(within(row('Added support articles')).getByText('support')).toBeInTheDocument();
    expect(row('Added support articles')).toHaveTextContent('gzip');
    // The exact time is there for hover and focus.
    const iso = new Date(sampleSnapshots()[0]!.timestamp).toISOString().slice(0, 16);
    expect(within(nightly).getByTitle(new RegExp(`^${iso}`))).toBeInTheDocument();
  });

  it('sorts by a column when its header button is pressed, and back', async () => {
    const { user } = await renderApp();
    const nameHeader = within(table()).getByRole('columnheader', { name: 'Name' });
    await user.click(within(nameHeader).getByRole('button'));
    expect(nameHeader).toHaveAttribute('aria-sort', 'ascending');
    expect(within(table()).getByRole('columnheader', { name: 'Created' })).toHaveAttribute('aria-sort', 'none');
    expect(rowNames()).toEqual(['Added support articles', 'Initial import', 'Nightly']);
    await user.click(within(nameHeader).getByRole('button'));
    expect(nameHeader).toHaveAttribute('aria-sort', 'descending');
    expect(rowNames()).toEqual(['Nightly', 'Initial import', 'Added support articles']);
    await user.click(within(within(table()).getByRole('columnheader', { name: 'Vectors' })).getByRole('button'));
    expect(rowNames()).toEqual(['Initial import', 'Added support articles', 'Nightly']);
  });

  it('filters by text over name, note, tags, format and id', async () => {
    const { user } = await renderApp();
    const filter = screen.getByLabelText('Filter snapshots');
    await user.type(filter, 'night');
    expect(rowNames()).toEqual(['Nightly']);
    await user.clear(filter);
    await user.type(filter, 'sqlite');
    expect(rowNames()).toEqual(['Initial import']);
    await user.clear(filter);
    await user.type(filter, 'no such thing');
    expect(bodyRows()).toHaveLength(0);
    expect(screen.getByText('No snapshot matches “no such thing”.')).toBeInTheDocument();
    await user.clear(filter);
    expect(bodyRows()).toHaveLength(3);
  });

  it('shows each integrity state as a badge', async () => {
    const snapshots = [...sampleSnapshots(), makeSnapshot({ name: 'Fresh' })];
    await renderApp(createFakePlatform({ snapshots }));
    expect(row('Nightly')).toHaveTextContent('Verified');
    expect(row('Initial import')).toHaveTextContent('Mismatch');
    expect(row('Added support articles')).toHaveTextContent('Missing file');
    expect(row('Fresh')).toHaveTextContent('Unverified');
  });

  it('pinning protects a snapshot from Delete', async () => {
    const { user, platform } = await renderApp();
    const nightly = row('Nightly');
    const pin = within(nightly).getByRole('button', { name: 'Pin' });
    expect(pin).toHaveAttribute('aria-pressed', 'false');
    expect(within(nightly).getByRole('button', { name: 'Delete' })).toBeEnabled();
    await user.click(pin);
    expect(platform.api.pinSnapshot).toHaveBeenCalledWith({ id: 'nightly', pinned: true });
    expect(within(row('Nightly')).getByRole('button', { name: 'Pin' })).toHaveAttribute('aria-pressed', 'true');
    const del = within(row('Nightly')).getByRole('button', { name: 'Delete' });
    expect(del).toBeDisabled();
    expect(del).toHaveAttribute('title', 'Pinned snapshots cannot be deleted');
    expect(row('Nightly')).toHaveTextContent('Pinned');
  });

  it('shows the first 12 checksum characters and copies the whole checksum', async () => {
    const { user, platform } = await renderApp();
    const checksum = platform.state.snapshots[0]!.checksum;
    const nightly = row('Nightly');
    expect(nightly).toHaveTextContent(checksum.slice(0, 12));
    expect(nightly).not.toHaveTextContent(checksum);
    await user.click(within(nightly).getByRole('button', { name: 'Copy checksum' }));
    expect(await navigator.clipboard.readText()).toBe(checksum);
    expect(within(nightly).getByText('Copied')).toBeInTheDocument();
  });

  it('enables Compare only with exactly two snapshots selected', async () => {
    const { user } = await renderApp();
    const compare = screen.getByRole('button', { name: 'Compare' });
    expect(compare).toBeDisabled();
    await user.click(screen.getByLabelText('Select Nightly for comparison'));
    expect(compare).toBeDisabled();
    await user.click(screen.getByLabelText('Select Initial import for comparison'));
    expect(compare).toBeEnabled();
    await user.click(screen.getByLabelText('Select Added support articles for comparison'));
    expect(compare).toBeEnabled();
    expect(screen.getByLabelText('Select Nightly for comparison')).not.toBeChecked();
    await user.click(screen.getByLabelText('Select Initial import for comparison'));
    expect(compare).toBeDisabled();
  });

  it('says so when there are no snapshots yet', async () => {
    await renderApp(createFakePlatform({ snapshots: [], info: { snapshotCount: 0 } }));
    expect(screen.getByText('No snapshots yet')).toBeInTheDocument();
  });

  it('deletes after a confirmation that names the snapshot', async () => {
    const { user, platform } = await renderApp();
    await user.click(within(row('Nightly')).getByRole('button', { name: 'Delete' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete snapshot' });
    expect(dialog).toHaveTextContent('Nightly');
    expect(dialog).toHaveTextContent('cannot be undone');
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(platform.api.deleteSnapshot).not.toHaveBeenCalled();
    await user.click(within(row('Nightly')).getByRole('button', { name: 'Delete' }));
    await user.click(within(screen.getByRole('dialog', { name: 'Delete snapshot' })).getByRole('button', { name: 'Delete' }));
    expect(platform.api.deleteSnapshot).toHaveBeenCalledWith({ id: 'nightly' });
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(rowNames()).toEqual(['Added support articles', 'Initial import']);
  });

  it('verifies a snapshot in a job and shows the new state', async () => {
    const { user, platform } = await renderApp();
    await user.click(within(row('Initial import')).getByRole('button', { name: 'Verify' }));
    expect(platform.api.verifySnapshot).toHaveBeenCalledWith({ id: 'initial' });
    platform.state.snapshots = platform.state.snapshots.map((m) => (m.id === 'initial' ? { ...m, integrity: { state: 'verified' } } : m));
    await platform.finish({
      jobId: platform.lastJobId(),
      kind: 'snapshot-verify',
      label: 'Verify "Initial import"',
      state: 'done',
      elapsedMs: 10,
      result: { id: 'initial', state: 'verified', ok: true, expected: 'x', actual: 'x', checkedAt: Date.now(), message: 'Snapshot "Initial import" is intact.' },
    });
    expect(row('Initial import')).toHaveTextContent('Verified');
    expect(screen.getByText('Snapshot "Initial import" is intact.')).toBeInTheDocument();
  });
});
