/** Calls of the `import:*` domain. */
export const importCalls = {} as const;

export const importEvents = {} as const;
