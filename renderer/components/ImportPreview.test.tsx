import { fireEvent, screen, within } from '@testing-library/react';
import type { FileInspection } from '../../core/service/contract';
import { renderApp } from '../test-utils/render-app';

const inspection: FileInspection = {
  path: '/uploads/extra.bin',
  format: 'binary',
  compression: 'gzip',
  fileSize: 2048,
  header: { dimension: 16, metric: 'cosine', count: 50, createdAt: Date.now() },
  legacy: false,
  verified: true,
  count: 50,
};

describe('Import preview', () => {
  it('checks the chosen file first, then imports it (merge by default)', async () => {
    const { user, platform } = await renderApp();
    platform.chooseImportFile.mockResolvedValueOnce('/uploads/extra.bin');
    await user.click(screen.getByRole('button', { name: 'Import…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Import preview' });
    expect(platform.api.previewImport).toHaveBeenCalledWith({ path: '/uploads/extra.bin' });
    expect(dialog).toHaveTextContent('extra.bin');
    expect(dialog).toHaveTextContent('Checking…');
    const importButton = within(dialog).getByRole('button', { name: 'Import' });
    expect(importButton).toBeDisabled();

    await platform.finish({ jobId: platform.lastJobId(), kind: 'import-preview', label: 'Check file', state: 'done', elapsedMs: 5, result: inspection });
    const facts = within(dialog);
    for (const [term, value] of [['Format', 'binary'], ['Compression', 'gzip'], ['Vectors', '50'], ['Dimension', '16'], ['Integrity', 'Verified']]) {
      expect(facts.getByText(term).nextElementSibling).toHaveTextContent(value!);
    }
    expect(importButton).toBeEnabled();
    await user.click(importButton);
    expect(platform.api.importFile).toHaveBeenCalledWith({ path: '/uploads/extra.bin', clear: false });
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('"Replace the current database" clears it before the import', async () => {
    const { user, platform } = await renderApp();
    await user.click(screen.getByRole('button', { name: 'Import…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Import preview' });
    await platform.finish({ jobId: platform.lastJobId(), kind: 'import-preview', label: 'Check file', state: 'done', elapsedMs: 5, result: inspection });
    await user.click(within(dialog).getByLabelText('Replace the current database'));
    await user.click(within(dialog).getByRole('button', { name: 'Import' }));
    expect(platform.api.importFile).toHaveBeenCalledWith({ path: '/uploads/file.bin', clear: true });
  });

  it('a file that fails the check shows why, and cannot be imported', async () => {
    const { user, platform } = await renderApp();
    await user.click(screen.getByRole('button', { name: 'Import…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Import preview' });
    await platform.finish({
      jobId: platform.lastJobId(),
      kind: 'import-preview',
      label: 'Check file',
      state: 'failed',
      elapsedMs: 5,
      error: { code: 'CHECKSUM_MISMATCH', message: 'The file is damaged: its checksum does not match its content.' },
    });
    expect(within(dialog).getByText('Integrity').nextElementSibling).toHaveTextContent(
      'The file is damaged: its checksum does not match its content.',
    );
    expect(within(dialog).getByRole('button', { name: 'Import' })).toBeDisabled();
    // Shown in the dialog, so not repeated as an alert.
    expect(screen.getByRole('alert')).toBeEmptyDOMElement();
  });

  it('Cancel (or Escape) while checking stops the check', async () => {
    const { user, platform } = await renderApp();
    await user.click(screen.getByRole('button', { name: 'Import…' }));
    await screen.findByRole('dialog', { name: 'Import preview' });
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(platform.api.cancelJob).toHaveBeenCalledWith({ jobId: platform.lastJobId() });
  });

  it('nothing happens when the person closes the file picker', async () => {
    const { user, platform } = await renderApp();
    platform.chooseImportFile.mockResolvedValueOnce(null);
    await user.click(screen.getByRole('button', { name: 'Import…' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(platform.api.previewImport).not.toHaveBeenCalled();
  });

  it('a failed upload is told as an alert and in the jobs panel', async () => {
    const { user, platform } = await renderApp();
    platform.chooseImportFile.mockImplementationOnce(async (onUpload) => {
      onUpload?.(10, 100);
      throw new Error('The upload failed: the server could not be reached.');
    });
    await user.click(screen.getByRole('button', { name: 'Import…' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The upload failed: the server could not be reached.');
    expect(within(screen.getByRole('region', { name: 'Jobs' })).getByRole('listitem')).toHaveTextContent('Failed: The upload failed');
  });
});

describe('Drag and drop', () => {
  const fileDrag = (type: string, files: File[]): Event => {
    const event = new Event(type, { bubbles: true, cancelable: true });
    Object.defineProperty(event, 'dataTransfer', { value: { types: ['Files'], files, dropEffect: 'none' } });
    return event;
  };

  it('shows an overlay while files are dragged over the window and previews the dropped file', async () => {
    const { platform } = await renderApp();
    const file = new File(['{}'], 'initial.json', { type: 'application/json' });
    fireEvent(document.body, fileDrag('dragenter', [file]));
    fireEvent(document.body, fileDrag('dragover', [file]));
    expect(screen.getByText('Drop a file to import')).toBeInTheDocument();
    fireEvent(document.body, fileDrag('drop', [file]));
    expect(screen.queryByText('Drop a file to import')).not.toBeInTheDocument();
    const dialog = await screen.findByRole('dialog', { name: 'Import preview' });
    expect(platform.resolveDroppedFiles).toHaveBeenCalledWith([file], expect.any(Function));
    expect(platform.api.previewImport).toHaveBeenCalledWith({ path: '/uploads/initial.json' });
    expect(dialog).toHaveTextContent('initial.json');
  });

  it('hides the overlay when the drag leaves, and reports a failed drop', async () => {
    const { platform } = await renderApp();
    const file = new File(['x'], 'x.bin');
    fireEvent(document.body, fileDrag('dragenter', [file]));
    fireEvent(document.body, fileDrag('dragleave', [file]));
    expect(screen.queryByText('Drop a file to import')).not.toBeInTheDocument();
    platform.resolveDroppedFiles.mockRejectedValueOnce(new Error('The upload failed (HTTP 413).'));
    fireEvent(document.body, fileDrag('drop', [file]));
    expect(await screen.findByText('The upload failed (HTTP 413).')).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });
});
