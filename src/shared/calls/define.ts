/** Building blocks of the contract's per-domain call maps (src/shared/calls/*.ts). */
import { z } from 'zod';

/** Phantom marker carrying a result type in the map without a runtime value. */
export function returns<T>(): T {
  return undefined as T;
}

/** An absolute or relative path as it arrives from outside; the core decides what it may be. */
export const pathInput = z
  .string()
  .min(1, 'a path is required')
  .max(4096, 'path is too long')
  .refine((p) => !p.includes('\0'), 'path contains a NUL byte');

export const idInput = z.number().int().positive();

export const emptyInput = z.object({}).strict();
