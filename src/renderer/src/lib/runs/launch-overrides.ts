/**
 * The launch form's editable preset values, kept free of Svelte so they are tested as plain
 * TypeScript: a value as the form shows it, the override a user's text means for it (read by the
 * type of the preset's value, the way `miad-lab train --set` reads its values), and the overrides
 * of a whole form (only the values that differ from the preset). The main process validates them
 * with the method's own schema; its message comes back to the form.
 */

/** How the form shows a preset value: arrays as `a + b`. */
export function showValue(value: unknown): string {
  return Array.isArray(value) ? value.join(' + ') : String(value);
}

/**
 * What the user's text means for a setting whose preset value is `original`: a list for list
 * values (`layer2 + layer3`, or commas), a number where the text is one (also for settings like
 * trainImages whose preset says 'all'), true/false for booleans, else the text itself.
 */
export function parseValue(text: string, original: unknown): unknown {
  const t = text.trim();
  if (Array.isArray(original)) return t.split(/[\s+,]+/).filter(Boolean);
  if (typeof original === 'boolean') return t === 'true' ? true : t === 'false' ? false : t;
  if (t !== '' && Number.isFinite(Number(t))) return Number(t);
  return t;
}

/** The overrides of a form: the edited values that differ from their preset value. */
export function formOverrides(values: readonly { key: string; value: unknown }[], edits: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of values) {
    const text = edits[key];
    if (text === undefined || text.trim() === showValue(value)) continue;
    out[key] = parseValue(text, value);
  }
  return out;
}
