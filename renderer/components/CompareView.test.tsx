import { screen, within } from '@testing-library/react';
import type { SnapshotComparison } from '../../core/service/contract';
import { renderApp } from '../test-utils/render-app';

describe('Compare view', () => {
  it('compares the two selected snapshots (older as A) and shows sizes, checksums and the diff', async () => {
    const { user, platform } = await renderApp();
    await user.click(screen.getByLabelText('Select Nightly for comparison'));
    await user.click(screen.getByLabelText('Select Added support articles for comparison'));
    await user.click(screen.getByRole('button', { name: 'Compare' }));
    expect(platform.api.compareSnapshots).toHaveBeenCalledWith({ a: 'added', b: 'nightly' });
    const view = screen.getByRole('region', { name: 'Comparison' });
    expect(view).toHaveTextContent('Comparing…');

    const [nightly, added] = [platform.state.snapshots[0]!, platform.state.snapshots[1]!];
    const result: SnapshotComparison = {
      a: added,
      b: nightly,
      sizeDifference: nightly.fileSize - added.fileSize,
      countDifference: 660,
      sameChecksum: false,
      sameDimension: true,
      sameContent: false,
      diff: {
        added: 1300,
        removed: 5,
        changed: 5,
        unchanged: 1025,
        vectorsChanged: 0,
        metadataChanged: 5,
        samples: { added: ['doc-000600', 'doc-000601'], removed: ['doc-000002'], changed: ['doc-000101'] },
      },
    };
    await platform.finish({ jobId: platform.lastJobId(), kind: 'snapshot-compare', label: 'Compare snapshots', state: 'done', elapsedMs: 30, result });

    expect(within(view).getByRole('heading', { name: 'Added support articles' })).toBeInTheDocument();
    expect(within(view).getByRole('heading', { name: 'Nightly' })).toBeInTheDocument();
    const bigBar = within(view).getByRole('img', { name: 'Size of Nightly: 3.00 MB' });
    const smallBar = within(view).getByRole('img', { name: 'Size of Added support articles: 512.00 KB' });
    expect(bigBar.style.width).toBe('100%');
    expect(smallBar.style.width).toBe(`${(512 / 3072) * 100}%`);
    expect(view).toHaveTextContent(nightly.checksum.slice(0, 12));
    expect(view).toHaveTextContent('Different content');
    for (const [label, n] of [['Added', '1,300'], ['Removed', '5'], ['Changed', '5'], ['Unchanged', '1,025']]) {
      expect(within(view).getByText(label!, { exact: true }).parentElement).toHaveTextContent(n!);
    }
    expect(within(view).getByRole('list', { name: 'Sample of added ids' })).toHaveTextContent('doc-000600');
    expect(within(view).getByRole('list', { name: 'Sample of removed ids' })).toHaveTextContent('doc-000002');
    expect(view).toHaveTextContent('and 1,298 more');

    await user.click(within(view).getByRole('button', { name: 'Close comparison' }));
    expect(screen.queryByRole('region', { name: 'Comparison' })).not.toBeInTheDocument();
  });

  it('says why a comparison failed', async () => {
    const { user, platform } = await renderApp();
    await user.click(screen.getByLabelText('Select Nightly for comparison'));
    await user.click(screen.getByLabelText('Select Initial import for comparison'));
    await user.click(screen.getByRole('button', { name: 'Compare' }));
    await platform.finish({
      jobId: platform.lastJobId(),
      kind: 'snapshot-compare',
      label: 'Compare snapshots',
      state: 'failed',
      elapsedMs: 30,
      error: { code: 'CHECKSUM_MISMATCH', message: 'Snapshot "Initial import" is damaged.' },
    });
    expect(screen.getByRole('region', { name: 'Comparison' })).toHaveTextContent('Snapshot "Initial import" is damaged.');
  });
});
