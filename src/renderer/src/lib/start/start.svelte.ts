/**
 * State of the start screen's three ways in: create the demo workspace (with its progress),
 * open a folder (with the confirm step before creating an empty workspace), and the recent list.
 * Kept in a module so a half-filled form survives switching views.
 */
import type { DemoProgress, RecentWorkspace } from '../../../../shared/types';
import { eventsReady, lab, onEvent } from '../api';
import { describeError, errorName } from '../app/errors';
import { setWorkspace } from '../app/session.svelte';
import { parseDemoOptions, type DemoForm } from './demo-options';

export const demo = $state({
  dir: '',
  /** True once the user typed or picked a folder: a fresher default must not overwrite it. */
  dirTouched: false,
  showAdvanced: false,
  form: { seed: '', train: '', test: '', size: '' } as DemoForm,
  running: false,
  /** True from the Cancel click until the lab has removed the half-made demo. */
  cancelling: false,
  progress: null as DemoProgress | null,
  error: null as string | null,
});

export const opener = $state({
  dir: '',
  busy: false,
  error: null as string | null,
  /** Set when the folder holds no workspace: the user may confirm creating one there. */
  confirmCreate: null as string | null,
});

export const recent = $state({
  items: [] as RecentWorkspace[],
  loading: false,
  loaded: false,
  error: null as string | null,
  /** The entry being opened, and the error of the last entry that failed, by folder. */
  opening: null as string | null,
  itemErrors: {} as Record<string, string>,
});

/** Shows the lab's default demo folder (it changes once a demo fills the previous one). */
export function prefillDemoDir(defaultDir: string): void {
  if (!demo.dirTouched) demo.dir = defaultDir;
}

export async function createDemo(): Promise<void> {
  if (demo.running) return;
  demo.error = null;
  const parsed = parseDemoOptions(demo.form);
  if (!parsed.ok) {
    demo.error = parsed.error;
    return;
  }
  const dir = demo.dir.trim();
  demo.running = true;
  demo.progress = null;
  const unsubscribe = onEvent('workspaces:demoProgress', (progress) => {
    demo.progress = progress;
  });
  try {
    // Progress arrives over the event channel; make sure it is connected before work starts.
    await eventsReady(3000);
    const workspace = await lab['workspaces:createDemo']({
      ...(dir !== '' ? { dir } : {}),
      ...(parsed.options ? { options: parsed.options } : {}),
    });
    setWorkspace(workspace);
    void loadRecent();
  } catch (error) {
    demo.error = describeError(error);
  } finally {
    unsubscribe();
    demo.running = false;
  }
}

/** Cancels the demo under way; createDemo then shows the lab's "cancelled: nothing was kept". */
export async function cancelDemo(): Promise<void> {
  if (!demo.running || demo.cancelling) return;
  demo.cancelling = true;
  try {
    await lab['workspaces:cancelDemo']({});
  } catch (error) {
    demo.error = describeError(error);
  } finally {
    demo.cancelling = false;
  }
}

export async function pickFolder(title: string): Promise<string | null> {
  const { path } = await lab['app:pickFolder']({ title });
  return path;
}

/** Opens the folder; when it holds no workspace, asks (via `confirmCreate`) before creating one. */
export async function openFolder(create = false): Promise<void> {
  const dir = opener.dir.trim();
  opener.error = null;
  if (dir === '') {
    opener.error = 'Type the folder of a workspace (an absolute path) or use Browse….';
    return;
  }
  opener.busy = true;
  try {
    const workspace = await lab['workspaces:open']({ dir, ...(create ? { create: true } : {}) });
    opener.confirmCreate = null;
    setWorkspace(workspace);
    void loadRecent();
  } catch (error) {
    opener.confirmCreate = !create && errorName(error) === 'NotFoundError' ? dir : null;
    opener.error = describeError(error);
  } finally {
    opener.busy = false;
  }
}

export function cancelCreate(): void {
  opener.confirmCreate = null;
  opener.error = null;
}

export async function loadRecent(): Promise<void> {
  recent.loading = true;
  recent.error = null;
  try {
    recent.items = await lab['workspaces:recent']({});
  } catch (error) {
    recent.error = describeError(error);
  } finally {
    recent.loading = false;
    recent.loaded = true;
  }
}

export async function openRecent(item: RecentWorkspace): Promise<void> {
  if (!item.exists || recent.opening !== null) return;
  recent.opening = item.dir;
  delete recent.itemErrors[item.dir];
  try {
    setWorkspace(await lab['workspaces:open']({ dir: item.dir }));
    void loadRecent();
  } catch (error) {
    recent.itemErrors[item.dir] = describeError(error);
  } finally {
    recent.opening = null;
  }
}
