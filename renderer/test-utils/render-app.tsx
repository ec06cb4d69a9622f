import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { App } from '../App';
import { createFakePlatform, type FakePlatform } from './fake-platform';

/** Renders the whole App over a fake platform and waits until the snapshot list has loaded. */
export async function renderApp(platform: FakePlatform = createFakePlatform()) {
  const user = userEvent.setup();
  const view = render(<App platform={platform} />);
  await screen.findByRole('region', { name: 'Database' });
  if (platform.state.snapshots.length > 0) await screen.findByText(platform.state.snapshots[0]!.name, { selector: 'th' });
  else await screen.findByText('No snapshots yet');
  return { ...view, platform, user };
}
