/** Errors as they cross a boundary (IPC, HTTP, CLI): a plain `{ name, message }`. */
export interface LabErrorInfo {
  name: string;
  message: string;
}

/** Names every door knows how to map: ValidationError → 400 / exit 2, NotFound → 404, Forbidden → 403. */
export type LabErrorName = 'ValidationError' | 'NotFoundError' | 'ForbiddenError' | 'ConflictError' | 'LabError';

export class LabError extends Error {
  constructor(
    message: string,
    override readonly name: LabErrorName = 'LabError',
  ) {
    super(message);
  }
}

export function toErrorInfo(error: unknown): LabErrorInfo {
  if (error instanceof Error) return { name: error.name || 'Error', message: error.message };
  return { name: 'Error', message: String(error) };
}

/** Rebuilds an Error on the receiving side of a boundary, keeping name and message. */
export function fromErrorInfo(info: LabErrorInfo): Error {
  const error = new Error(info.message);
  error.name = info.name;
  return error;
}
