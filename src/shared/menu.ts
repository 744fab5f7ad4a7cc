/**
 * Commands the desktop app's native menu sends to the UI (channel LAB_MENU_CHANNEL of
 * src/shared/window-lab.ts). Only commands that need the UI's flow (a picker, progress, the
 * start screen) are listed; View and Help items are handled by the main process itself.
 * Pure and shared so the renderer can switch over the same names the menu sends.
 */

export const MENU_COMMANDS = ['open-workspace', 'create-demo-workspace', 'export-dataset', 'close-workspace'] as const;

export type MenuCommand = (typeof MENU_COMMANDS)[number];

/** What travels on the menu channel. */
export interface MenuMessage {
  command: MenuCommand;
}

export function isMenuCommand(value: unknown): value is MenuCommand {
  return typeof value === 'string' && (MENU_COMMANDS as readonly string[]).includes(value);
}
