/**
 * Native dialogs of the desktop app: the folder picker behind `app:pickFolder` (given to the lab
 * host as its `pickFolder` option) and the About box. Modal to the main window when there is one.
 */
import { dialog, type BaseWindow, type MessageBoxOptions, type OpenDialogOptions } from 'electron';
import type { BundledLibrary } from './licences';

export type CurrentWindow = () => BaseWindow | null;

/** `(title) => chosen absolute folder, or null when the user cancelled`. */
export function createFolderPicker(currentWindow: CurrentWindow): (title?: string) => Promise<string | null> {
  return async (title) => {
    const options: OpenDialogOptions = {
      title: title ?? 'Choose a folder',
      // createDirectory: macOS only; elsewhere the native dialogs offer "New folder" themselves.
      properties: ['openDirectory', 'createDirectory'],
    };
    const parent = currentWindow();
    const result = parent && !parent.isDestroyed() ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
    if (result.canceled) return null;
    return result.filePaths[0] ?? null;
  };
}

export interface AboutDetails {
  name: string;
  version: string;
  versions: { electron?: string; chrome?: string; node?: string };
  /** What the app ships, with licences (licences.ts). */
  libraries: readonly BundledLibrary[];
}

export function aboutText(details: AboutDetails): { message: string; detail: string } {
  const { electron, chrome, node } = details.versions;
  return {
    message: `${details.name} ${details.version}`,
    detail: [
      'Unsupervised visual anomaly detection on maintenance-inspection images (MIAD).',
      '',
      `Electron ${electron ?? '?'} · Chromium ${chrome ?? '?'} · Node ${node ?? '?'}`,
      '',
      'Libraries and their licences:',
      ...details.libraries.map((l) => `${l.name} ${l.version} (${l.license})`),
    ].join('\n'),
  };
}

export async function showAbout(currentWindow: CurrentWindow, details: AboutDetails): Promise<void> {
  const options: MessageBoxOptions = { type: 'info', title: `About ${details.name}`, buttons: ['OK'], ...aboutText(details) };
  const parent = currentWindow();
  if (parent && !parent.isDestroyed()) await dialog.showMessageBox(parent, options);
  else await dialog.showMessageBox(options);
}
