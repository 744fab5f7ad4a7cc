/**
 * A workspace is a folder: `lab.sqlite`, `thumbs/`, `weights/`, `runs/<id>/`, `datasets/`.
 * Opening validates the folder before writing anything, so a bad path changes nothing.
 */
import { access, mkdir, readdir, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { LabError } from '../../../shared/errors';
import type { WorkspaceInfo } from '../../../shared/types';
import { DB_FILE, Store, type StoreOptions } from '../store/store';
import { makeDirs } from '../fs-util';
import { SCHEMA_VERSION } from '../store/migrations';

export const WORKSPACE_FOLDERS = ['thumbs', 'weights', 'runs', 'datasets'] as const;

export interface Workspace {
  dir: string;
  store: Store;
}

import type { FolderState } from '../../../shared/calls/app';
export type { FolderState };

export async function folderState(dir: string): Promise<FolderState> {
  let info;
  try {
    info = await stat(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw new LabError(`cannot read ${dir}: ${(error as Error).message}`);
  }
  if (!info.isDirectory()) return 'file';
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    throw new LabError(`cannot read the folder ${dir}: ${(error as Error).message}`);
  }
  if (entries.includes(DB_FILE)) return 'workspace';
  return entries.length === 0 ? 'empty' : 'other';
}

/** Checks a workspace's schema version without writing to it. */
function checkSchemaReadOnly(dir: string): void {
  const version = Store.peekSchemaVersion(dir);
  if (version > SCHEMA_VERSION) {
    throw new LabError(
      `the workspace ${dir} was created by a newer MIAD Lab (schema version ${version}; this version understands up to ${SCHEMA_VERSION}). Update MIAD Lab to open it.`,
      'ConflictError',
    );
  }
}

/**
 * Opens the workspace in `dir`. With `create`, a missing or empty folder becomes a new workspace;
 * a folder holding other files is refused (we never mix a workspace into unrelated files).
 */
export async function openWorkspace(dirInput: string, options: { create?: boolean } & StoreOptions = {}): Promise<Workspace> {
  if (!isAbsolute(dirInput)) throw new LabError(`the workspace path must be absolute, got ${JSON.stringify(dirInput)}`, 'ValidationError');
  const dir = resolve(dirInput);
  const state = await folderState(dir);
  switch (state) {
    case 'file':
      throw new LabError(`${dir} is a file, not a folder: choose a folder for the workspace`, 'ValidationError');
    case 'other':
      throw new LabError(
        options.create
          ? `${dir} is not empty and holds no MIAD Lab workspace: choose an empty or new folder`
          : `${dir} holds no MIAD Lab workspace (no ${DB_FILE})`,
        options.create ? 'ConflictError' : 'NotFoundError',
      );
    case 'missing':
    case 'empty':
      if (!options.create) throw new LabError(`no MIAD Lab workspace at ${dir}`, 'NotFoundError');
      break;
    case 'workspace':
      checkSchemaReadOnly(dir);
      break;
  }
  if (state === 'missing') {
    await makeDirs(dir).catch((error: Error) => {
      throw new LabError(`cannot create the workspace folder ${dir}: ${error.message}`);
    });
  }
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new LabError(`cannot write to ${dir}: the workspace folder must be writable`, 'ForbiddenError');
  }
  const store = Store.open(dir, options);
  try {
    for (const folder of WORKSPACE_FOLDERS) await mkdir(join(dir, folder), { recursive: true });
    if (store.getMeta('name') === null) store.setMeta('name', basename(dir));
  } catch (error) {
    store.close();
    throw error;
  }
  return { dir, store };
}

export function workspaceInfo(ws: Workspace): WorkspaceInfo {
  return {
    dir: ws.dir,
    name: ws.store.getMeta('name') ?? basename(ws.dir),
    schemaVersion: ws.store.schemaVersion,
    createdAt: ws.store.getMeta('created_at') ?? '',
    datasetCount: ws.store.listDatasets().length,
    sampleCount: ws.store.sampleCount(),
  };
}
