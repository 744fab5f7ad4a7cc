/** Calls of the `library:*` domain. */
export const libraryCalls = {} as const;

export const libraryEvents = {} as const;
