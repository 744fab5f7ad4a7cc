/** A real redis-server for a test file (redis-server.ts), stopped after it. */
import { afterAll } from 'vitest';
import { launchRedis, type TestRedis } from './redis-server';

export { REDIS_SERVER, type TestRedis } from './redis-server';

/** Starts redis-server in `dir` (its working folder); stopped after the test file, or by `stop()`. */
export async function startRedis(dir: string): Promise<TestRedis> {
  const redis = await launchRedis(dir);
  afterAll(() => redis.stop());
  return redis;
}
