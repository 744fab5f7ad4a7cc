/**
 * `miad-lab worker`: one benchmark-queue worker (one process per GPU). Thin: the queue module
 * does the work (core/queue/worker.ts); this verb parses the flags and stops it on SIGINT/SIGTERM.
 */
import { resolve } from 'node:path';
import { BACKEND_NAMES, isBackendName } from '../../../shared/backends';
import { intOption, stringOption, UsageError, type VerbSpec } from '../verb';

export const workerVerb: VerbSpec = {
  name: 'worker',
  summary: "take benchmark cells from a Redis queue and run them (one process per GPU)",
  details: [
    'Each cell runs as a job process in the worker\'s own workspace under --cache; its dataset arrives',
    'through the queue, checked by sha256, its checkpoints are uploaded as it trains (a cell retried on',
    'another worker resumes from the last one), and its run goes back to the coordinator that queued it.',
    'The queue URL names a Redis ACL user: redis://worker:PASSWORD@HOST:PORT (or set MIAD_QUEUE_URL, which',
    'keeps the password out of the process list). Ctrl+C or SIGTERM checkpoints the running cell and stops.',
    '',
    'Example:',
    '  MIAD_QUEUE_URL=redis://worker:s3cret@10.0.0.5:6379 miad-lab worker --cache ~/.cache/miad-worker-gpu0 --backend tensorflow',
  ].join('\n'),
  options: {
    queue: { type: 'string', value: 'URL', description: 'the queue: redis://user:password@host:port (default: $MIAD_QUEUE_URL)' },
    cache: { type: 'string', value: 'DIR', description: "the worker's folder: its workspace and dataset cache (default ./miad-worker)" },
    backend: { type: 'string', value: 'B', description: `force a backend: ${BACKEND_NAMES.join(', ')} (default: the best available)` },
    'lock-ms': { type: 'string', value: 'MS', description: 'how long a cell stays locked to this worker without renewal (default 300000)' },
    'stalled-ms': { type: 'string', value: 'MS', description: 'how often cells of dead workers are looked for (default 60000)' },
  },
  async run({ options }, io) {
    const url = stringOption(options, 'queue') ?? process.env['MIAD_QUEUE_URL'];
    if (!url) throw new UsageError('--queue URL (or MIAD_QUEUE_URL) is required: redis://user:password@host:port');
    const backend = stringOption(options, 'backend');
    if (backend !== undefined && !isBackendName(backend)) throw new UsageError(`--backend is one of ${BACKEND_NAMES.join(', ')}, got ${JSON.stringify(backend)}`);
    const lockDurationMs = intOption(options, 'lock-ms', 300_000, 1000, 24 * 3600_000);
    const stalledIntervalMs = intOption(options, 'stalled-ms', 60_000, 500, 24 * 3600_000);
    // Loaded when the verb runs: BullMQ is not every command's start-up cost.
    const { startQueueWorker } = await import('../../core/queue');
    const worker = await startQueueWorker({
      url,
      cacheDir: resolve(stringOption(options, 'cache') ?? 'miad-worker'),
      backend,
      lockDurationMs,
      stalledIntervalMs,
      log: (line) => io.err(`[${new Date().toISOString()}] ${line}`),
    });
    const stop = () => void worker.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await worker.stopped;
    return { worker: worker.name, stopped: true };
  },
};
