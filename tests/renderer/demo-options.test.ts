import { describe, expect, it } from 'vitest';
import { DEMO_LIMITS } from '../../src/shared/contract';
import { parseDemoOptions } from '../../src/renderer/src/lib/start/demo-options';

describe('parseDemoOptions', () => {
  it('treats blank fields as the lab defaults', () => {
    expect(parseDemoOptions({ seed: '', train: null, test: ' ', size: '' })).toEqual({ ok: true, options: null });
  });

  it('reads numbers from text or from bound number inputs', () => {
    expect(parseDemoOptions({ seed: '7', train: 40, test: '12', size: 128 })).toEqual({
      ok: true,
      options: { seed: 7, train: 40, test: 12, size: 128 },
    });
  });

  it('names the field and its range when a value is out of bounds', () => {
    const parsed = parseDemoOptions({ seed: '', train: String(DEMO_LIMITS.maxTrain + 1), test: '', size: '' });
    expect(parsed).toEqual({ ok: false, error: `Train images (per scenario) must be between 1 and ${DEMO_LIMITS.maxTrain}, got ${DEMO_LIMITS.maxTrain + 1}.` });
    const small = parseDemoOptions({ seed: '', train: '', test: '', size: 8 });
    expect(small.ok).toBe(false);
    if (!small.ok) expect(small.error).toMatch(/^Image size must be between 64 and 1024/);
  });

  it('refuses fractions and text', () => {
    const parsed = parseDemoOptions({ seed: '1.5', train: '', test: '', size: '' });
    expect(parsed).toEqual({ ok: false, error: 'Seed must be a whole number, got "1.5".' });
  });
});
