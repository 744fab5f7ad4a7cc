// Preload: written by the Electron adapter work.
export {};
