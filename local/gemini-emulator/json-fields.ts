/** A plain JSON object (not null, not an array). */
export type JsonObject = Record<string, unknown>;

/** True when `value` is a non-null, non-array object, i.e. something that can carry named fields. */
export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a field that clients may spell in camelCase or snake_case.
 *
 * Gemini's REST API is proto3 JSON, which accepts both the lowerCamelCase JSON name and the original
 * snake_case proto field name, and the official SDKs differ in which one they send. Callers always
 * pass the camelCase name; the camelCase spelling wins when both are present. Anything that is not an
 * object has no fields.
 */
export function readField(object: unknown, camelName: string): unknown {
  if (!isRecord(object)) return undefined;
  const camel = object[camelName];
  if (camel !== undefined) return camel;
  return object[snakeCase(camelName)];
}

/** The snake_case spelling of a lowerCamelCase name, e.g. `responseMimeType` → `response_mime_type`. */
export function snakeCase(camelName: string): string {
  return camelName.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * Reads a numeric value that may arrive as a JSON number or as a decimal string: proto3 JSON encodes
 * int64 fields (such as Gemini Schema's `maxItems`) as strings.
 */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}
