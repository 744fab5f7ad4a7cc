import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: {
      rollupOptions: {
        // job-worker: the entry of job processes (Electron's utilityProcess forks out/main/job-worker.js).
        input: { index: resolve(__dirname, 'src/main/electron/index.ts'), 'job-worker': resolve(__dirname, 'src/main/core/jobs/worker-main.ts') },
      },
    },
  },
  preload: {
    build: {
      // electron-vite externalizes dependencies by default; a sandboxed preload can require only
      // 'electron', so zod and the rest must be bundled in.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        // A sandboxed preload cannot `require` npm packages: bundle everything into one CommonJS file.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    plugins: [svelte({ configFile: resolve(__dirname, 'svelte.config.js') })],
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/renderer/index.html') },
      },
    },
  },
});
