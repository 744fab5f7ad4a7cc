/**
 * The queue's cell payload: the fingerprint names what decides the result (not the uid or the
 * time), so the same cell enqueued twice has one job id; the payload is refused, with why, when it
 * has an unknown key (a local path), an unknown method, a config the method rejects, or a
 * fingerprint that does not match its content; the seed reaches the method's config.
 */
import { describe, expect, it } from 'vitest';
import { deterministicRunError } from '../../src/main/core/queue/worker';
import { exitReason } from '../../src/main/core/jobs/runner';
import { cellFingerprint, cellJobId, cellMethodConfig, makeCellPayload, parseCellPayload, type CellPayload } from '../../src/main/core/queue/payload';

const DATASET = { sha256: 'b'.repeat(64) };
const spec = { method: 'patchcore', preset: 'fast', scenarios: ['nut_and_bolt'], overrides: { inputSize: 64 }, seed: 3 };

describe('the cell payload', () => {
  it('gives the same fingerprint and job id to the same cell enqueued at another time, and another to another seed', () => {
    const a = makeCellPayload(spec, DATASET, '0.1.0', new Date('2026-01-01T00:00:00Z'));
    const b = makeCellPayload(spec, DATASET, '0.1.0', new Date('2026-02-01T00:00:00Z'));
    expect(a.cellUid).not.toBe(b.cellUid);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(cellJobId(a.fingerprint)).toBe(`cell-${a.fingerprint}`);
    expect(cellJobId(a.fingerprint)).not.toContain(':');
    expect(makeCellPayload({ ...spec, seed: 4 }, DATASET, '0.1.0').fingerprint).not.toBe(a.fingerprint);
    expect(makeCellPayload(spec, { sha256: 'c'.repeat(64) }, '0.1.0').fingerprint).not.toBe(a.fingerprint);
    expect(parseCellPayload(JSON.parse(JSON.stringify(a)))).toEqual(a);
  });

  it('puts the seed into the method config and checks it with the method', () => {
    expect(cellMethodConfig({ ...spec, overrides: { inputSize: 64 } })).toEqual({ preset: 'fast', overrides: { inputSize: 64, seed: 3 }, scenarios: ['nut_and_bolt'] });
    expect(() => cellMethodConfig({ ...spec, scenarios: ['nut_and_bolt', 'wind_turbine'] })).toThrow(/trains one scenario per run/);
  });

  it('refuses a payload with a local path, an unknown method, a rejected config or a forged fingerprint', () => {
    const good = makeCellPayload(spec, DATASET, '0.1.0');
    const refused = (payload: unknown) => {
      try {
        parseCellPayload(payload);
        return null;
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(refused({ ...good, dataset: { ...good.dataset, root: '/home/me/MIAD' } })).toMatch(/^a queued cell is not valid: dataset: Unrecognized key/);
    expect(refused({ ...good, weightsFile: '/etc/passwd' })).toMatch(/^a queued cell is not valid: payload: Unrecognized key/);
    expect(refused({ ...good, v: 2 })).toMatch(/^a queued cell is not valid: v: /);
    expect(refused({ ...good, overrides: { inputSize: 65 } })).toBe('a queued cell is not valid: its fingerprint does not match its content');
    expect(refused(makeCellPayloadUnchecked({ ...good, method: 'nope' }))).toMatch(/^a queued cell is not valid: unknown method "nope"/);
    expect(refused(makeCellPayloadUnchecked({ ...good, overrides: { inputSize: -1 } }))).toMatch(/^a queued cell is not valid: .*inputSize/);
    expect(refused(good)).toBeNull();
  });
});

describe('which failed runs a worker retries', () => {
  it('does not retry a diverged loss or a refused config, and retries a job process that died', () => {
    expect(deterministicRunError('training diverged: the loss is NaN at step 3 of 24 (epoch 1, batch 3); the run stops here.')).toBe(true);
    expect(deterministicRunError('training diverged: the loss is Infinity at step 1 of 1 (epoch 1, batch 1); the run stops here.')).toBe(true);
    expect(deterministicRunError('the job could not be prepared: dataset mini has 0 training images')).toBe(true);
    expect(deterministicRunError(exitReason({ code: null, signal: 'SIGKILL' }, ''))).toBe(false);
    expect(deterministicRunError(exitReason({ code: 134, signal: null }, 'FATAL ERROR: Reached heap limit'))).toBe(false);
  });
});

/** A payload with a correct fingerprint over whatever content it is given (what a forger could send). */
function makeCellPayloadUnchecked(p: Omit<CellPayload, 'fingerprint' | 'cellUid' | 'createdAt' | 'v'>): unknown {
  const { method, preset, overrides, scenarios, seed, dataset, codeVersion } = p;
  const base = { method, preset, overrides, scenarios, seed, dataset, codeVersion };
  return { v: 1, cellUid: '0123456789abcdef', createdAt: new Date().toISOString(), ...base, fingerprint: cellFingerprint(base) };
}
