/**
 * Reads the demo form's advanced fields (text inputs) into `workspaces:createDemo` options,
 * with messages that name the field and its allowed range. Blank fields mean "the lab's default".
 */
import { DEMO_LIMITS } from '../../../../shared/limits';

/** Field values as the inputs hold them: text, or a number (a bound number input; null when blank). */
export interface DemoForm {
  seed: string | number | null;
  train: string | number | null;
  test: string | number | null;
  size: string | number | null;
}

export interface DemoOptions {
  seed?: number;
  train?: number;
  test?: number;
  size?: number;
}

export type ParsedDemoOptions = { ok: true; options: DemoOptions | null } | { ok: false; error: string };

const FIELDS: { key: keyof DemoForm; label: string; min: number; max: number }[] = [
  { key: 'seed', label: 'Seed', min: 0, max: 2 ** 31 - 1 },
  { key: 'train', label: 'Train images (per scenario)', min: 1, max: DEMO_LIMITS.maxTrain },
  { key: 'test', label: 'Test images (per scenario)', min: 1, max: DEMO_LIMITS.maxTest },
  { key: 'size', label: 'Image size', min: DEMO_LIMITS.minSize, max: DEMO_LIMITS.maxSize },
];

export function demoFieldLimits(key: keyof DemoForm): { min: number; max: number } {
  const field = FIELDS.find((f) => f.key === key);
  return field ? { min: field.min, max: field.max } : { min: 0, max: Number.MAX_SAFE_INTEGER };
}

export function parseDemoOptions(form: DemoForm): ParsedDemoOptions {
  const options: DemoOptions = {};
  for (const field of FIELDS) {
    const text = String(form[field.key] ?? '').trim();
    if (text === '') continue;
    if (!/^\d+$/.test(text)) return { ok: false, error: `${field.label} must be a whole number, got "${text}".` };
    const value = Number(text);
    if (value < field.min || value > field.max) {
      return { ok: false, error: `${field.label} must be between ${field.min} and ${field.max}, got ${value}.` };
    }
    options[field.key] = value;
  }
  return { ok: true, options: Object.keys(options).length > 0 ? options : null };
}
