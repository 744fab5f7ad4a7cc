/**
 * What the desktop app's native menu commands do in the renderer: open a workspace and create
 * the demo go to the start screen with that action focused (it has the confirm and progress
 * UI); close closes.
 */
import { closeWorkspace, session, showStart } from './session.svelte';
import type { MenuCommand } from '../../../../shared/menu';

export async function handleMenuCommand(command: MenuCommand): Promise<void> {
  switch (command) {
    case 'open-workspace':
      showStart('open');
      return;
    case 'create-demo-workspace':
      showStart('create');
      return;
    case 'close-workspace':
      if (session.workspace !== null) await closeWorkspace();
      return;
  }
}
