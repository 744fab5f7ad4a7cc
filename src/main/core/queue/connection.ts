/**
 * Where the benchmark queue lives in Redis and how a coordinator or a worker connects to it.
 *
 * Everything the lab keeps in Redis sits under one key prefix (`miad:`): BullMQ's queue
 * (`miad:cells:*`), the content-addressed blobs (`miad:blob:*`) and the checkpoints of running
 * cells (`miad:ckpt:*`). So one ACL key pattern confines a user, and `aclRules(role)` is THE
 * definition of the two users (coordinator, worker) that an operator writes into redis.conf and the
 * tests start Redis with.
 *
 * `connectRedis(url)` opens one checked connection: a wrong password, an unknown user or nothing
 * listening is a LabError naming the host and the user (never the password), not a stack or an
 * endless reconnect loop.
 */
import { Redis } from 'ioredis';
import { LabError } from '../../../shared/errors';

/** BullMQ's key prefix and the lab's own: every key the lab writes starts with `miad:`. */
export const KEY_PREFIX = 'miad';
/** The one queue of benchmark cells. */
export const QUEUE_NAME = 'cells';

export type QueueRole = 'coordinator' | 'worker';

/**
 * The ACL rule of a role's user (`ACL SETUSER name <rules>` or a `user name <rules>` line of
 * redis.conf): its password, only the lab's keys, every command but the ones that could wipe or
 * reconfigure the server or list every key. BullMQ runs Lua scripts (EVAL/EVALSHA), reads INFO and
 * names its clients, so those stay allowed.
 */
export function aclRules(password: string): string[] {
  if (!/^[\x21-\x7e]{8,}$/.test(password)) throw new LabError('a Redis ACL password is at least 8 printable characters without spaces', 'ValidationError');
  return [
    'on',
    `>${password}`,
    'resetkeys',
    `~${KEY_PREFIX}:*`,
    'resetchannels',
    '+@all',
    ...DENIED_COMMANDS.map((c) => `-${c}`),
  ];
}

/** Commands no lab user may run (FLUSHALL, CONFIG, KEYS, DEBUG and their kin). */
export const DENIED_COMMANDS = [
  'flushall',
  'flushdb',
  'config',
  'keys',
  'debug',
  'shutdown',
  'acl',
  'module',
  'monitor',
  'save',
  'bgsave',
  'bgrewriteaof',
  'replicaof',
  'slaveof',
  'migrate',
  'failover',
  'sync',
  'psync',
] as const;

export interface RedisTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
}

/** `redis://user:password@host:port[/db]` → its parts; a LabError naming what is wrong otherwise. */
export function parseRedisUrl(url: string): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LabError(`not a Redis URL: ${JSON.stringify(redact(url))}; expected redis://user:password@host:port`, 'ValidationError');
  }
  if (parsed.protocol !== 'redis:') throw new LabError(`a queue URL starts with redis:// (got ${parsed.protocol}//)`, 'ValidationError');
  if (!parsed.hostname) throw new LabError('the queue URL names no host', 'ValidationError');
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const dbText = parsed.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,2}$/.test(dbText)) throw new LabError(`the queue URL's database must be a number, got ${JSON.stringify(dbText)}`, 'ValidationError');
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    db: dbText === '' ? 0 : Number(dbText),
  };
}

/** The URL with its password replaced by `***`, for messages and logs. */
export function redact(url: string): string {
  return url.replace(/^(redis:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}

/** Connection options (ioredis's and BullMQ's) for a target; BullMQ workers need `maxRetriesPerRequest: null`. */
export interface TargetOptions {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  maxRetriesPerRequest: null;
  enableReadyCheck: boolean;
}

export function redisOptions(target: RedisTarget): TargetOptions {
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
  };
}

/** What a failed connection attempt means, in words. */
export function explainRedisError(error: unknown, target: RedisTarget): string {
  const message = error instanceof Error ? error.message : String(error);
  const where = `Redis at ${target.host}:${target.port}`;
  const who = target.username !== undefined ? `user ${JSON.stringify(target.username)}` : 'the default user';
  if (/WRONGPASS|invalid password|invalid username-password/i.test(message)) return `${where} refused ${who}: wrong password, or no such user (check the queue URL)`;
  if (/NOAUTH/i.test(message)) return `${where} requires a user and password: give redis://user:password@${target.host}:${target.port}`;
  if (/NOPERM/i.test(message)) return `${where}: ${who} lacks a permission the queue needs (${message}); see aclRules in the lab's queue module`;
  if (/ECONNREFUSED/.test(message)) return `nothing accepts connections at ${target.host}:${target.port} (is redis-server running there?)`;
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return `the host ${target.host} of the queue URL cannot be resolved`;
  return `${where}: ${message}`;
}

/**
 * One connection, authenticated and answering PING, or a LabError saying why not (after one
 * attempt: a wrong password does not turn into an endless reconnect loop).
 */
export async function connectRedis(url: string): Promise<{ client: Redis; target: RedisTarget }> {
  const target = parseRedisUrl(url);
  const client = new Redis({ ...redisOptions(target), lazyConnect: true, retryStrategy: () => null, connectTimeout: 10_000 });
  let lastError: unknown = null;
  client.on('error', (error: unknown) => {
    lastError = error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new LabError(explainRedisError(lastError ?? error, target), 'ValidationError');
  }
  // From here on a dropped connection reconnects (a Redis restart should not end a worker).
  client.options.retryStrategy = (times: number) => Math.min(times * 200, 5000);
  return { client, target };
}
