/**
 * JSON helpers used on more than one function's path: the object guard, and the byte (and UTF-16
 * code unit) values of JSON's structural characters for the scanners that walk JSON text without
 * parsing it. Plain module constants: the scanners compare against them once per character.
 */

/** A JSON object, not an array or null. */
export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Whether a parsed JSON object has exactly `count` members: `Object.keys(value).length === count`
 * without building the array of names, on every line of a file. (`JSON.parse` builds plain objects
 * with own enumerable members only, so `for…in` counts exactly those.)
 */
export function hasMemberCount(value: object, count: number): boolean {
  let members = 0;
  for (const _name in value) if (++members > count) return false;
  return members === count;
}

/** `"` */
export const QUOTE = 0x22;
/** `\` */
export const BACKSLASH = 0x5c;
/** `{` */
export const OPEN_OBJECT = 0x7b;
/** `}` */
export const CLOSE_OBJECT = 0x7d;
/** `[` */
export const OPEN_ARRAY = 0x5b;
/** `]` */
export const CLOSE_ARRAY = 0x5d;
/** `:` */
export const COLON = 0x3a;
/** `,` */
export const COMMA = 0x2c;
