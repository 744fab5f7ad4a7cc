/**
 * What the desktop app's native menu commands do in the renderer: open a workspace and create
 * the demo go to the start screen with that action focused (it has the confirm and progress
 * UI); export opens the export dialog over the open workspace (ignored with none open); close
 * closes.
 */
import { closeWorkspace, session, showStart } from './session.svelte';
import { openExportDialog } from '../annotate/export-dialog';
import type { MenuCommand } from '../../../../shared/menu';

export async function handleMenuCommand(command: MenuCommand): Promise<void> {
  switch (command) {
    case 'open-workspace':
      showStart('open');
      return;
    case 'create-demo-workspace':
      showStart('create');
      return;
    case 'export-dataset':
      // On the start screen (switching) the workspace is still open but not what the user looks at.
      if (session.workspace !== null && !session.switching) openExportDialog();
      return;
    case 'close-workspace':
      if (session.workspace !== null) await closeWorkspace();
      return;
  }
}
