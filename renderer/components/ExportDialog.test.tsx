import { screen, within } from '@testing-library/react';
import { renderApp } from '../test-utils/render-app';
import { createFakePlatform } from '../test-utils/fake-platform';
import { exportDefaults } from './ExportDialog';
import { makeSnapshot } from '../test-utils/fixtures';

const row = (name: string): HTMLElement =>
  within(screen.getByRole('table', { name: 'Snapshots' })).getByRole('rowheader', { name }).closest('tr')!;

describe('Export dialog', () => {
  it('names the file after format and compression, keeping a name the person typed', async () => {
    const { user } = await renderApp();
    await user.click(screen.getAllByRole('button', { name: 'Export…' })[0]!);
    const dialog = screen.getByRole('dialog', { name: 'Export database' });
    const fileName = within(dialog).getByLabelText('File name');
    // The workspace saves binary: that is the default.
    expect(within(dialog).getByLabelText('Format')).toHaveValue('binary');
    expect(within(dialog).getByLabelText('Compression')).toHaveValue('none');
    expect(fileName).toHaveValue('database.bin');
    await user.selectOptions(within(dialog).getByLabelText('Compression'), 'gzip');
    expect(fileName).toHaveValue('database.bin.gz');
    await user.selectOptions(within(dialog).getByLabelText('Format'), 'json');
    expect(fileName).toHaveValue('database.json.gz');
    await user.clear(fileName);
    await user.type(fileName, 'all-vectors');
    await user.selectOptions(within(dialog).getByLabelText('Format'), 'sqlite');
    expect(fileName).toHaveValue('all-vectors.sqlite.gz');
    await user.selectOptions(within(dialog).getByLabelText('Compression'), 'brotli');
    expect(fileName).toHaveValue('all-vectors.sqlite.br');
  });

  it('a snapshot export starts from its own name, format and compression', () => {
    const snapshot = makeSnapshot({ name: 'Initial import', format: 'json', compression: 'gzip', compressed: true });
    expect(exportDefaults({ kind: 'snapshot', snapshot }, undefined, 'binary')).toEqual({
      format: 'json',
      compression: 'gzip',
      fileName: 'Initial import.json.gz',
    });
    expect(exportDefaults({ kind: 'database' }, 'sqlite', 'binary').fileName).toBe('database.sqlite');
    expect(exportDefaults({ kind: 'database' }, undefined, undefined).fileName).toBe('database.bin');
  });

  it('exports through the save target, then delivers the file and says where it went', async () => {
    const { user, platform } = await renderApp();
    await user.click(screen.getAllByRole('button', { name: 'Export…' })[0]!);
    const dialog = screen.getByRole('dialog', { name: 'Export database' });
    await user.selectOptions(within(dialog).getByLabelText('Compression'), 'gzip');
    await user.click(within(dialog).getByRole('button', { name: 'Export' }));
    expect(platform.chooseExportTarget).toHaveBeenCalledWith('database.bin.gz');
    expect(platform.api.exportDatabase).toHaveBeenCalledWith({ path: '/exports/database.bin.gz', format: 'binary', compression: 'gzip' });
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(platform.deliverExport).not.toHaveBeenCalled();
    await platform.finish({
      jobId: platform.lastJobId(),
      kind: 'export-database',
      label: 'Export database',
      state: 'done',
      elapsedMs: 10,
      result: { path: '/exports/database.bin.gz', format: 'binary', compression: 'gzip', fileSize: 10, checksum: 'c', contentChecksum: 'd', vectorCount: 3 },
    });
    expect(platform.deliverExport).toHaveBeenCalledWith('/exports/database.bin.gz');
    expect(screen.getByText('Exported to /exports/database.bin.gz')).toBeInTheDocument();
  });

  it('does nothing when the save dialog is cancelled', async () => {
    const { user, platform } = await renderApp();
    platform.chooseExportTarget.mockResolvedValueOnce(null);
    await user.click(screen.getAllByRole('button', { name: 'Export…' })[0]!);
    await user.click(within(screen.getByRole('dialog', { name: 'Export database' })).getByRole('button', { name: 'Export' }));
    expect(platform.chooseExportTarget).toHaveBeenCalled();
    expect(platform.api.exportDatabase).not.toHaveBeenCalled();
  });

  it('exports one snapshot from its row', async () => {
    const { user, platform } = await renderApp();
    await user.click(within(row('Added support articles')).getByRole('button', { name: 'Export…' }));
    const dialog = screen.getByRole('dialog', { name: 'Export “Added support articles”' });
    expect(within(dialog).getByLabelText('File name')).toHaveValue('Added support articles.json.gz');
    await user.selectOptions(within(dialog).getByLabelText('Compression'), 'none');
    await user.click(within(dialog).getByRole('button', { name: 'Export' }));
    expect(platform.api.exportSnapshot).toHaveBeenCalledWith({
      id: 'added',
      path: '/exports/Added support articles.json',
      format: 'json',
      compression: 'none',
    });
  });

  it('a file name is required', async () => {
    const { user, platform } = await renderApp();
    await user.click(screen.getAllByRole('button', { name: 'Export…' })[0]!);
    const dialog = screen.getByRole('dialog', { name: 'Export database' });
    await user.clear(within(dialog).getByLabelText('File name'));
    await user.click(within(dialog).getByRole('button', { name: 'Export' }));
    expect(within(dialog).getByText('Give the file a name.')).toBeInTheDocument();
    expect(within(dialog).getByLabelText('File name')).toHaveAttribute('aria-invalid', 'true');
    expect(platform.chooseExportTarget).not.toHaveBeenCalled();
  });
});

describe('Menu commands', () => {
  it('File ▸ Export ▸ Database as … opens the export dialog preset to that format', async () => {
    const { platform } = await renderApp();
    await platform.menu('export-database-sqlite');
    const dialog = screen.getByRole('dialog', { name: 'Export database' });
    expect(within(dialog).getByLabelText('Format')).toHaveValue('sqlite');
    expect(within(dialog).getByLabelText('File name')).toHaveValue('database.sqlite');
  });

  it('"Export snapshot" needs exactly one selected snapshot', async () => {
    const { platform, user } = await renderApp();
    await platform.menu('export-snapshot');
    expect(screen.getByRole('alert')).toHaveTextContent('Select one snapshot to export.');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    await user.click(screen.getByLabelText('Select Nightly for comparison'));
    await platform.menu('export-snapshot');
    expect(screen.getByRole('dialog', { name: 'Export “Nightly”' })).toBeInTheDocument();
  });

  it('import and create-snapshot run the same flows as the buttons; open-folder is ignored in the web', async () => {
    const { platform } = await renderApp(createFakePlatform({ kind: 'web' }));
    await platform.menu('open-folder');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    await platform.menu('create-snapshot');
    expect(screen.getByRole('dialog', { name: 'Create snapshot' })).toBeInTheDocument();
    await platform.menu('import');
    expect(platform.chooseImportFile).toHaveBeenCalled();
    expect(await screen.findByRole('dialog', { name: 'Import preview' })).toBeInTheDocument();
  });
});
