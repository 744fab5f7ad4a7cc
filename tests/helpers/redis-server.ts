/**
 * A real redis-server (Debian's) for the queue tests and bench/queue-matrix.ts: on a free loopback
 * port, no persistence (`--save '' --appendonly no`), the default user off, and one ACL user per
 * role as the product defines them (queue/connection.ts aclRules): `coordinator` and `worker`,
 * confined to the lab's keys. Tests use redis.ts, which stops it after the test file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { aclRules } from '../../src/main/core/queue/connection';

export const REDIS_SERVER = process.env['REDIS_SERVER'] ?? '/usr/bin/redis-server';

export interface TestRedis {
  port: number;
  passwords: { coordinator: string; worker: string };
  /** `redis://<role>:<password>@127.0.0.1:<port>`. */
  url(role: 'coordinator' | 'worker', password?: string): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function launch(dir: string, port: number, passwords: TestRedis['passwords']): Promise<ChildProcess> {
  const conf = join(dir, `redis-${port}.conf`);
  await writeFile(
    conf,
    [
      'bind 127.0.0.1',
      `port ${port}`,
      `dir ${dir}`,
      "save ''",
      'appendonly no',
      'protected-mode yes',
      'maxmemory-policy noeviction',
      'user default off',
      `user coordinator ${aclRules(passwords.coordinator).join(' ')}`,
      `user worker ${aclRules(passwords.worker).join(' ')}`,
      '',
    ].join('\n'),
  );
  const child = spawn(REDIS_SERVER, [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Ready to accept connections/.test(output)) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready: ${output.slice(-500)}`)));
    child.once('error', reject);
  });
  return child;
}

/** Starts redis-server in `dir` (its working folder); `stop()` ends it. */
export async function launchRedis(dir: string): Promise<TestRedis> {
  const passwords = { coordinator: randomBytes(12).toString('hex'), worker: randomBytes(12).toString('hex') };
  const port = await freePort();
  const child = await launch(dir, port, passwords);
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    return stopped;
  };
  return {
    port,
    passwords,
    url: (role, password) => `redis://${role}:${password ?? passwords[role]}@127.0.0.1:${port}`,
    stop,
  };
}
