/**
 * The benchmark queue on BullMQ + Redis (issue 18): what the doors use. The coordinator's side
 * (openQueue: enqueue cells, merge finished ones) and the worker's (startQueueWorker), the cell
 * payload and the Redis connection helpers. The CLI imports this file only.
 */
export { openQueue, type BenchmarkQueue, type EnqueueResult, type FailedCell, type MergedCell, type OpenQueueOptions } from './coordinator';
export { startQueueWorker, type QueueWorker, type QueueWorkerOptions } from './worker';
export { cellPayloadSchema, parseCellPayload, type CellPayload, type CellSpec } from './payload';
export { aclRules, parseRedisUrl, redact, KEY_PREFIX, QUEUE_NAME } from './connection';
