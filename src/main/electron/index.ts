// Electron entry point: written by the Electron adapter work.
export {};
