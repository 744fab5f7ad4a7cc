/** `miad-lab serve`: the headless server, the same UI in a browser. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAbsolute, join, resolve } from 'node:path';
import { createLabHost } from '../../core/lab-host';
import { defaultConfigDir, defaultWorkspacesDir } from '../../core/paths';
import { startLabServer } from '../../server/server';
import type { FolderState } from '../../../shared/calls/app';
import { withHost } from '../host';
import { intOption, stringOption, UsageError, type VerbSpec } from '../verb';

export const STATIC_DIR = fileURLToPath(new URL('../../../../out/renderer', import.meta.url));

export const serveVerb: VerbSpec = {
  name: 'serve',
  summary: 'serve the lab UI to a browser (127.0.0.1 by default, token required)',
  details: [
    'With --workspace DIR: a folder holding a workspace is opened; a missing or empty one is offered',
    'on the first screen as the folder for a new demo workspace.',
    'The UI must be built first: `npm run serve` builds it, then runs this verb.',
    'Binding to another address than loopback exposes the lab to your network: the token is then',
    'the only protection. Prefer an SSH tunnel.',
  ].join('\n'),
  options: {
    workspace: { type: 'string', value: 'DIR', description: 'workspace folder to open (or to create the demo in)' },
    port: { type: 'string', value: 'N', description: 'port to listen on (default 5175; 0 picks a free one)' },
    host: { type: 'string', value: 'H', description: 'address to bind (default 127.0.0.1)' },
  },
  async run({ options }, io) {
    const port = intOption(options, 'port', 5175, 0, 65535);
    const hostname = stringOption(options, 'host') ?? '127.0.0.1';
    if (!/^[A-Za-z0-9.:-]+$/.test(hostname)) throw new UsageError(`--host expects an address such as 127.0.0.1, got ${JSON.stringify(hostname)}`);
    const wsArg = stringOption(options, 'workspace');
    const workspace = wsArg ? resolve(wsArg) : undefined;
    let state: FolderState | null = null;
    if (workspace) {
      if (!isAbsolute(workspace)) throw new UsageError('--workspace must be a path');
      state = (await withHost((host) => host.call('workspaces:inspect', { dir: workspace }))).state;
      if (state === 'file') throw new UsageError(`--workspace ${workspace} is a file, not a folder`);
      if (state === 'other') throw new UsageError(`--workspace ${workspace} is not empty and holds no MIAD Lab workspace (no lab.sqlite)`);
    }
    if (!existsSync(join(STATIC_DIR, 'index.html'))) {
      throw new Error(`the UI is not built (${STATIC_DIR} has no index.html): run \`npm run build\`, or use \`npm run serve\` which builds it`);
    }
    const host = createLabHost({
      door: 'server',
      configDir: defaultConfigDir(),
      defaultWorkspacesDir: defaultWorkspacesDir(),
      ...(workspace && state !== 'workspace' ? { defaultDemoDir: workspace } : {}),
    });
    if (workspace && state === 'workspace') await host.openWorkspace(workspace);
    const server = await startLabServer({ host, staticDir: STATIC_DIR, hostname, port });
    const stop = async (): Promise<void> => {
      await server.close();
      await host.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
    if (!io.json) {
      io.out(`MIAD Lab is serving at ${server.url}`);
      if (hostname !== '127.0.0.1' && hostname !== 'localhost' && hostname !== '::1') {
        io.err(`warning: bound to ${hostname}: anyone who can reach this address and has the token can use the lab`);
      }
      io.out('Press Ctrl+C to stop.');
    }
    return { url: server.url, port: server.port, host: server.hostname, token: server.token, workspace: host.currentLab()?.dir ?? null };
  },
};
