/**
 * Redis access as the queue module sets it up, against a real redis-server: a wrong password or a
 * missing user is refused with a message naming host and user (never the password), the worker
 * user cannot FLUSHALL, CONFIG or KEYS nor touch keys outside the lab's prefix, and the default
 * user has no access at all.
 */
import { describe, expect, it } from 'vitest';
import { connectRedis, redact } from '../../src/main/core/queue/connection';
import { startRedis } from '../helpers/redis';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();

describe('Redis access for the benchmark queue', () => {
  it('refuses a wrong password, a missing password and nothing listening with clear messages', async () => {
    const redis = await startRedis(await tmp());
    const wrong = redis.url('worker', 'not-the-password');
    const error = await connectRedis(wrong).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe(`Redis at 127.0.0.1:${redis.port} refused user "worker": wrong password, or no such user (check the queue URL)`);
    expect(error?.message).not.toContain('not-the-password');
    await expect(connectRedis(`redis://127.0.0.1:${redis.port}`)).rejects.toThrow(/requires a user and password|refused the default user/);
    await expect(connectRedis('http://x:y@127.0.0.1:1')).rejects.toThrow('a queue URL starts with redis://');
    expect(redact(wrong)).toBe(`redis://worker:***@127.0.0.1:${redis.port}`);
    await redis.stop();
    await expect(connectRedis(redis.url('worker'))).rejects.toThrow(`nothing accepts connections at 127.0.0.1:${redis.port}`);
  });

  it('confines the worker user to the lab keys and denies FLUSHALL, CONFIG and KEYS', async () => {
    const redis = await startRedis(await tmp());
    const { client } = await connectRedis(redis.url('worker'));
    try {
      await client.set('miad:probe', '1');
      expect(await client.get('miad:probe')).toBe('1');
      await expect(client.flushall()).rejects.toThrow(/NOPERM/);
      await expect(client.config('GET', 'dir')).rejects.toThrow(/NOPERM/);
      await expect(client.keys('*')).rejects.toThrow(/NOPERM/);
      await expect(client.set('other:probe', '1')).rejects.toThrow(/NOPERM/);
      // BullMQ runs Lua scripts: allowed on the lab's keys only.
      expect(await client.eval("return redis.call('GET', KEYS[1])", 1, 'miad:probe')).toBe('1');
      await expect(client.eval("return redis.call('GET', KEYS[1])", 1, 'other:probe')).rejects.toThrow(/NOPERM|No permissions/);
      expect(await client.get('miad:probe')).toBe('1');
    } finally {
      client.disconnect();
    }
  });
});
