#!/usr/bin/env node
// The `miad-lab` command. Runs the TypeScript sources through tsx's loader, so the CLI works
// straight after `npm install` with no build step.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

register();
await import(fileURLToPath(new URL('../src/main/cli/index.ts', import.meta.url)));
