/**
 * Turns a failed call into the sentence shown next to the action that failed. The server's
 * messages already name what is wrong; this only drops the technical prefixes.
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const message = error.message.trim();
    if (message !== '') return message.charAt(0).toUpperCase() + message.slice(1);
    return error.name && error.name !== 'Error' ? error.name : 'Something went wrong (no message from the lab).';
  }
  return String(error);
}

/** The error's name as the lab sent it (`NotFoundError`, `ConflictError`…), or '' for a non-Error. */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

/** The text as a sentence: ends with a full stop unless it already ends with punctuation. */
export function asSentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?…:]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
