/**
 * What "Check the training set" refuses, through the host's calls on a real workspace (the input
 * validated where it enters, the workspace's facts checked before any run exists), a cancel in the
 * middle of a check that stores nothing, and the CLI verb end to end.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckInfo } from '../../src/shared/calls/checks';
import type { RunInfo } from '../../src/shared/types';
import { runCli } from '../../src/main/cli/main';
import { useTmpDirs } from '../helpers/tmp';
import { capture } from '../helpers/cli';
import { waitForEnd } from '../jobs/helpers';
import { SCENARIO, TINY_CHECK, plantedJobHost } from './helpers';

const tmp = useTmpDirs();
let env: Awaited<ReturnType<typeof plantedJobHost>>;

beforeAll(async () => {
  env = await plantedJobHost(await tmp(), { train: 12, planted: 2 });
}, 300_000);

afterAll(async () => {
  await env?.t.host.close();
});

const trainCount = () => env.t.lab().store.connection.prepare("SELECT COUNT(*) FROM samples WHERE split = 'train'").pluck().get() as number;
const runCount = () => env.t.lab().store.connection.prepare('SELECT COUNT(*) FROM runs').pluck().get() as number;

describe('checks:start refuses', () => {
  it('an unknown scenario, with the known ones', async () => {
    await expect(env.t.host.invoke('checks:start', { scenario: 'no_such' })).rejects.toThrow(/no dataset of this workspace has scenario "no_such" \(scenarios: nut_and_bolt\)/);
    await expect(env.t.host.invoke('checks:start', { scenario: 'wind_turbine', datasetId: 1 })).rejects.toThrow(/has no scenario "wind_turbine"/);
  });

  it('fewer than 2 folds, and more folds than training images', async () => {
    await expect(env.t.host.invoke('checks:start', { scenario: SCENARIO, folds: 1 })).rejects.toThrow(/invalid input for checks:start: folds/);
    const n = trainCount();
    await expect(env.t.host.invoke('checks:start', { scenario: SCENARIO, folds: n + 1, ...TINY_CHECK })).rejects.toThrow(new RegExp(`${n + 1} folds need at least ${n + 1} training images; scenario ${SCENARIO} has ${n}`));
  });

  it('a bad preset or override before any run exists', async () => {
    const before = runCount();
    await expect(env.t.host.invoke('checks:start', { scenario: SCENARIO, preset: 'huge' })).rejects.toThrow(/preset/i);
    await expect(env.t.host.invoke('checks:start', { scenario: SCENARIO, preset: 'fast', overrides: { coresetRatio: 7 } })).rejects.toThrow(/coresetRatio/);
    expect(runCount()).toBe(before);
  });

  it('an empty training set (every training image flagged out)', async () => {
    const all = { mode: 'filter', filter: { scenario: [SCENARIO], split: ['train'] }, except: [] };
    await env.t.host.invoke('annotate:flagTraining', { selection: all, excluded: true });
    try {
      await expect(env.t.host.invoke('checks:start', { scenario: SCENARIO, ...TINY_CHECK })).rejects.toThrow(new RegExp(`no training image left to check: all ${trainCount()} are flagged out of training`));
    } finally {
      await env.t.host.invoke('annotate:flagTraining', { selection: all, excluded: false });
    }
  });

  it('a ranking of a scenario never checked', async () => {
    await expect(env.t.host.invoke('checks:ranking', { scenario: SCENARIO })).rejects.toThrow(/no finished training-set check/);
    await expect(env.t.host.invoke('checks:ranking', {})).rejects.toThrow(/give runId or scenario/);
  });
});

describe('a cancelled check', () => {
  it('stores no scores and shows no check', async () => {
    const run = (await env.t.host.invoke('checks:start', { scenario: SCENARIO, folds: 6, ...TINY_CHECK })) as RunInfo;
    // Cancel once the job is under way (its first progress message always goes).
    await env.t.waitFor((e) => e.event === 'runs:progress' && (e.payload as { runId: number }).runId === run.id, 'the check to start');
    await env.t.host.invoke('runs:cancel', { runId: run.id });
    const ended = await waitForEnd(env.t, run.id, 10);
    expect(ended.status).toBe('cancelled');
    expect(await env.t.host.invoke('checks:list', {})).toEqual([]);
    expect(env.t.lab().store.connection.prepare('SELECT COUNT(*) FROM train_check_scores').pluck().get()).toBe(0);
    const facets = (await env.t.host.invoke('library:facets', { filter: {} })) as { total: number; facets: { suspicion: { value: string; count: number }[] } };
    expect(facets.facets.suspicion.find((v) => v.value === 'unchecked')?.count).toBe(facets.total);
  });
});

describe('miad-lab check-train', () => {
  it('checks through the host and prints the top of the ranking; refuses bad usage with exit 2', async () => {
    const n = trainCount();
    // The CLI opens the workspace itself: let go of it here first.
    await env.t.host.close();
    const saved = process.env.MIAD_LAB_CONFIG_DIR;
    process.env.MIAD_LAB_CONFIG_DIR = join(env.ws, '..', 'cli-config');
    try {
      const bad = capture();
      expect(await runCli(['check-train', '--workspace', env.ws, '--scenario', SCENARIO, '--folds', '1'], bad.io)).toBe(2);
      expect(bad.err.join('\n')).toMatch(/--folds must be between 2 and 100/);
      const unknown = capture();
      expect(await runCli(['check-train', '--workspace', env.ws, '--scenario', 'no_such'], unknown.io)).toBe(2);
      expect(unknown.err.join('\n')).toMatch(/no dataset of this workspace has scenario "no_such"/);

      const c = capture();
      const code = await runCli(['check-train', '--workspace', env.ws, '--scenario', SCENARIO, '--folds', '3', '--preset', 'fast', '--set', 'inputSize=64', '--set', 'coresetRatio=1', '--top', '3', '--json'], c.io);
      expect(code, c.err.join('\n')).toBe(0);
      const { result } = JSON.parse(c.out.join('')) as { result: { check: CheckInfo; items: { rank: number; relPath: string }[] } };
      expect(result.check).toMatchObject({ scenario: SCENARIO, folds: 3, preset: 'fast', images: n });
      expect(result.items.map((i) => i.rank)).toEqual([0, 1, 2]);
      const human = capture();
      expect(await runCli(['check-train', '--workspace', env.ws, '--scenario', SCENARIO, '--folds', '2', '--preset', 'fast', '--set', 'inputSize=64', '--top', '2'], human.io)).toBe(0);
      expect(human.out.join('\n')).toMatch(/Top 2 \(highest score first\):\n\s+1\s+\S+\s+#\d+\s+nut_and_bolt\/train\/good\/\S+\.png/);
    } finally {
      if (saved === undefined) delete process.env.MIAD_LAB_CONFIG_DIR;
      else process.env.MIAD_LAB_CONFIG_DIR = saved;
    }
  });
});
