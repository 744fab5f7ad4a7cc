/**
 * The words of model-assisted curation (lib/annotate/review.ts): a history entry's origin line,
 * the question a queued disagreement asks, and the queues built from the core's answers.
 */
import { describe, expect, it } from 'vitest';
import { changeLines } from '../../src/renderer/src/lib/annotate/history-text';
import { clampBand, disagreementQueue, disagreementText, originText, proposalQueue } from '../../src/renderer/src/lib/annotate/review';

describe('review words', () => {
  it('says where an edit came from, under its field lines', () => {
    const proposal = { kind: 'proposal', runId: 3, threshold: 0.4215, minArea: 20, fillHoles: true, edited: true } as const;
    expect(originText(proposal)).toBe('proposed by run #3 at threshold 0.421, min area 20 px, holes filled, edited before saving');
    expect(originText({ ...proposal, fillHoles: false, edited: false, threshold: 12345 })).toBe('proposed by run #3 at threshold 1.23e+4, min area 20 px');
    expect(originText({ ...proposal, snap: { band: 3 } })).toBe('proposed by run #3 at threshold 0.421, min area 20 px, holes filled, snapped to edges within 3 px, edited before saving');
    expect(originText({ kind: 'review', runId: 5, outcome: 'fn' })).toBe("from the review of run #5's false negatives");
    expect(changeLines({ kind: 'mask', mask: [null, 'masks/1/7.mabc-0011aabb.png'], origin: proposal })).toEqual([
      'mask: dataset mask → edit mabc-0011aabb',
      'proposed by run #3 at threshold 0.421, min area 20 px, holes filled, edited before saving',
    ]);
  });

  it('asks whether the label of a false positive or negative is right', () => {
    const item = { sampleId: 9, relPath: 'test/good/001.png', label: 'good', score: 0.912, outcome: 'fp' } as const;
    const q = disagreementQueue(2, 0.5, [item, { ...item, sampleId: 10, label: 'weld_pit', score: 0.1, outcome: 'fn' }]);
    expect(q.sampleIds).toEqual([9, 10]);
    expect(q.modes.map((m) => disagreementText(m as Extract<typeof m, { kind: 'disagreement' }>))).toEqual([
      'False positive of run #2: scored 0.912 ≥ 0.500 (its image F1-max threshold) but labelled good. Is this label right?',
      'False negative of run #2: scored 0.100 < 0.500 (its image F1-max threshold) but labelled weld pit. Is this label right?',
    ]);
    expect(proposalQueue(4, [1, 2], 16, false).modes).toEqual([
      { kind: 'proposal', runId: 4, minArea: 16, fillHoles: false, snap: null },
      { kind: 'proposal', runId: 4, minArea: 16, fillHoles: false, snap: null },
    ]);
    expect([clampBand(0), clampBand(4.4), clampBand(99), clampBand(Number.NaN)]).toEqual([1, 4, 16, 1]);
    expect(proposalQueue(4, [3], 0, true, { band: 6 }).modes).toEqual([{ kind: 'proposal', runId: 4, minArea: 0, fillHoles: true, snap: { band: 6 } }]);
  });
});
