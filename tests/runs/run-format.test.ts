/** The Runs area's pure helpers: metric rows with Table A.1 labels, progress text, chart geometry, gallery filters. */
import { describe, expect, it } from 'vitest';
import { curvePath, defectLabel, filterGallery, histogramBars, maxShare, metricRows, progressFraction, progressText } from '../../src/renderer/src/lib/runs/run-format';
import type { GalleryItem } from '../../src/shared/calls/runs';

describe('run-format', () => {
  it('orders metric rows overall first and labels defect types as Table A.1 does', () => {
    const rows = metricRows(
      [
        { scenario: 'metal_welding', defectType: 'weld_pit', metric: 'image_auroc', value: 0.7, threshold: null },
        { scenario: 'metal_welding', defectType: '', metric: 'image_auroc', value: 0.8, threshold: null },
        { scenario: 'metal_welding', defectType: '', metric: 'aupro', value: null, threshold: null },
        { scenario: 'other', defectType: '', metric: 'image_auroc', value: 0.1, threshold: null },
      ],
      'metal_welding',
    );
    expect(rows.map((r) => r.label)).toEqual(['Overall', 'weld pit']);
    expect(rows[0]!.values).toEqual({ image_auroc: 0.8, aupro: null });
    expect(defectLabel('some_folder', 'odd_type')).toBe('odd type');
  });

  it('describes progress, with or without speed and ETA', () => {
    expect(progressText({ runId: 1, phase: 'embedding', step: 12, total: 64, imagesPerSec: 8.54, etaSeconds: 6.2 })).toBe('embedding 12/64 · 8.5 img/s · ETA 6.2 s');
    expect(progressText({ runId: 1, phase: 'metrics', step: 0, total: 1 })).toBe('metrics 0/1');
    expect(progressText(undefined)).toMatch(/waiting/);
    expect(progressFraction({ runId: 1, phase: 'x', step: 3, total: 4 })).toBe(0.75);
    expect(progressFraction({ runId: 1, phase: 'x', step: 3, total: 0 })).toBe(0);
  });

  it('cuts a curve at xMax with the crossing point interpolated', () => {
    expect(curvePath({ x: [0, 0.5, 1], y: [0, 1, 1] }, 100, 100)).toBe('M0.0,100.0 L50.0,0.0 L100.0,0.0');
    // From (0.2, 0.4) to (0.4, 0.8): at x 0.3, y 0.6.
    expect(curvePath({ x: [0, 0.2, 0.4, 1], y: [0, 0.4, 0.8, 1] }, 30, 10, 0.3)).toBe('M0.0,10.0 L20.0,6.0 L30.0,4.0');
  });

  it('scales histogram bars to each class share on a common top', () => {
    const top = maxShare([[2, 2], [0, 1]]);
    expect(top).toBe(1);
    expect(histogramBars([2, 2], 20, 10, top).map((b) => b.height)).toEqual([5, 5]);
    expect(histogramBars([0, 1], 20, 10, top).map((b) => [b.x, b.y])).toEqual([
      [0, 10],
      [10, 0],
    ]);
  });

  it('filters the gallery to false positives, false negatives or both', () => {
    const item = (relPath: string, outcome: GalleryItem['outcome']): GalleryItem => ({ relPath, label: 'x', score: 1, anomalous: true, outcome, imagePath: null });
    const items = [item('a', 'tp'), item('b', 'fp'), item('c', 'fn'), item('d', 'tn')];
    expect(filterGallery(items, 'fp').map((i) => i.relPath)).toEqual(['b']);
    expect(filterGallery(items, 'fn').map((i) => i.relPath)).toEqual(['c']);
    expect(filterGallery(items, 'errors').map((i) => i.relPath)).toEqual(['b', 'c']);
    expect(filterGallery(items, 'all')).toHaveLength(4);
  });
});
