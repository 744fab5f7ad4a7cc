/**
 * Opens the "Export curated dataset" dialog over whatever area is shown: the desktop menu command
 * and the Library's button both come here. The dialog is mounted on document.body rather than
 * inside an area, so the menu reaches it from any area without the frame knowing about it.
 */
import { mount, unmount } from 'svelte';
import { session } from '../app/session.svelte';
import ExportDatasetDialog from './ExportDatasetDialog.svelte';

let current: Record<string, unknown> | null = null;

/** Shows the dialog for the open workspace; does nothing without one, or when it is already shown. */
export function openExportDialog(): void {
  const workspace = session.workspace;
  if (workspace === null || current !== null) return;
  const instance = mount(ExportDatasetDialog, {
    target: document.body,
    props: {
      workspaceDir: workspace.dir,
      onclose: () => {
        if (current !== instance) return;
        current = null;
        void unmount(instance);
      },
    },
  });
  current = instance;
}

/** True while the dialog is shown. */
export function exportDialogOpen(): boolean {
  return current !== null;
}
