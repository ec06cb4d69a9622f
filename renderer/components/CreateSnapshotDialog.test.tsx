import { screen, within } from '@testing-library/react';
import { renderApp } from '../test-utils/render-app';

describe('Create snapshot dialog', () => {
  it('takes name, note, tags, format and compression, and starts the job', async () => {
    const { user, platform } = await renderApp();
    await user.click(screen.getByRole('button', { name: 'Create snapshot' }));
    const dialog = screen.getByRole('dialog', { name: 'Create snapshot' });
    const name = within(dialog).getByLabelText('Name');
    expect((name as HTMLInputElement).value).toMatch(/^Snapshot \d{4}-\d\d-\d\d \d\d:\d\d$/);
    expect(name).toHaveFocus();
    expect(within(dialog).getByLabelText('Format')).toHaveValue('binary');
    expect(within(dialog).getByLabelText('Compression')).toHaveValue('none');
    await user.clear(name);
    await user.type(name, 'Before re-embedding');
    await user.type(within(dialog).getByLabelText('Note'), 'e5-small → e5-large');
    await user.type(within(dialog).getByLabelText('Tags'), 'model, weekly,');
    await user.selectOptions(within(dialog).getByLabelText('Format'), 'sqlite');
    await user.selectOptions(within(dialog).getByLabelText('Compression'), 'gzip');
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(platform.api.createSnapshot).toHaveBeenCalledWith({
      name: 'Before re-embedding',
      note: 'e5-small → e5-large',
      tags: ['model', 'weekly'],
      format: 'sqlite',
      compression: 'gzip',
    });
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('needs a name', async () => {
    const { user, platform } = await renderApp();
    await user.click(screen.getByRole('button', { name: 'Create snapshot' }));
    const dialog = screen.getByRole('dialog', { name: 'Create snapshot' });
    await user.clear(within(dialog).getByLabelText('Name'));
    await user.keyboard('{Enter}');
    expect(within(dialog).getByText('Give the snapshot a name.')).toBeInTheDocument();
    expect(within(dialog).getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true');
    expect(platform.api.createSnapshot).not.toHaveBeenCalled();
  });
});

describe('Dialogs and the keyboard', () => {
  it('trap Tab inside, close on Escape and give focus back to the button that opened them', async () => {
    const { user } = await renderApp();
    const opener = screen.getByRole('button', { name: 'Create snapshot' });
    opener.focus();
    await user.keyboard('{Enter}');
    const dialog = screen.getByRole('dialog', { name: 'Create snapshot' });
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    const cancel = within(dialog).getByRole('button', { name: 'Cancel' });
    cancel.focus();
    await user.tab();
    expect(within(dialog).getByLabelText('Name')).toHaveFocus();
    await user.tab({ shift: true });
    expect(cancel).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(opener).toHaveFocus();
  });

  it('Space on a focused button works as a click', async () => {
    const { user } = await renderApp();
    screen.getByRole('button', { name: 'Import…' });
    screen.getByRole('button', { name: 'Create snapshot' }).focus();
    await user.keyboard(' ');
    expect(screen.getByRole('dialog', { name: 'Create snapshot' })).toBeInTheDocument();
  });
});
