/** Narrowing of parsed JSON (a template, an event pattern) shared by the template readers. */

/** Whether `value` is a JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` as a list: itself if it is an array, else a list of one. */
export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}
