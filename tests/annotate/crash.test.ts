/**
 * Killing an editing process at random points never leaves a row pointing at a half-written
 * mask: a child saves masks through the core in a loop and is SIGKILLed 20 times; after each
 * kill every row's mask file reads back as the edit the row's version names, and at most the
 * save in flight was lost.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsxImport } from '../../src/main/core/jobs/spawn';
import { decodePng } from '../../src/main/core/image/png';
import { AnnotationRepo } from '../../src/main/core/store/annotation-repo';
import { Store } from '../../src/main/core/store/store';
import { prng } from '../library/synthetic';
import { useTmpDirs } from '../helpers/tmp';
import { H, openSmallWorkspace, W } from './helpers';

const tmp = useTmpDirs();
const SAVER = fileURLToPath(new URL('./fixtures/mask-saver.ts', import.meta.url));

/** Runs the saver until it has acknowledged one save plus a random delay, then SIGKILLs it. */
function runAndKill(dir: string, ids: number[], delayMs: number): Promise<Map<number, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxImport(), SAVER, dir, String(W), String(H), ...ids.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked = new Map<number, number>();
    let buffered = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [, id, v] = line.split(' ');
        acked.set(Number(id), Number(v));
      }
      timer ??= setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`the saver exited on its own (code ${code}): ${stderr}`));
    });
  });
}

describe('mask saving under SIGKILL', () => {
  it('leaves every row pointing at a complete mask, losing at most the save in flight', async () => {
    const { host, dir, id } = await openSmallWorkspace(await tmp());
    const ids = [id('wind_turbine/test/crack/000.png'), id('metal_welding/test/weld_pit/000.png')];
    await host.close();
    const rand = prng(4);
    const lastAcked = new Map<number, number>();
    for (let round = 0; round < 20; round++) {
      const acked = await runAndKill(dir, ids, Math.floor(rand() * 60));
      for (const [k, v] of acked) lastAcked.set(k, v);
      const store = Store.open(dir);
      try {
        expect(store.connection.pragma('integrity_check', { simple: true })).toBe('ok');
        const repo = new AnnotationRepo(store);
        for (const sampleId of ids) {
          const row = repo.row(sampleId);
          const acknowledged = lastAcked.get(sampleId) ?? 0;
          // A kill soon after the first acknowledged save can come before the other sample's first
          // save committed: no row then, and nothing acknowledged for it either.
          if (row === null) {
            expect(acknowledged, `round ${round}, sample ${sampleId}`).toBe(0);
            continue;
          }
          // Committed saves survive; only the one in flight (acknowledged + 1) may have landed unannounced.
          expect(row.version).toBeGreaterThanOrEqual(acknowledged);
          expect(row.version).toBeLessThanOrEqual(acknowledged + 1);
          lastAcked.set(sampleId, row.version);
          const img = decodePng(await readFile(join(dir, row.mask_path!)));
          let spelled = 0;
          for (let i = 0; i < img.data.length; i++) if (img.data[i]) spelled += 2 ** i;
          expect(spelled, `round ${round}, sample ${sampleId}`).toBe(row.version);
          expect(repo.history(sampleId)).toHaveLength(row.version);
        }
      } finally {
        store.close();
      }
    }
    // The loop really saved, many times over.
    expect(Math.min(...ids.map((i) => lastAcked.get(i)!))).toBeGreaterThan(20);
  }, 120_000);
});
