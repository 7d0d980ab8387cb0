import { asNumber, isRecord, type JsonObject, readField, snakeCase } from '../json-fields.js';
import { hash32 } from './hash.js';

/**
 * Structural nesting (object properties, array items) beyond which the sampler switches to the
 * smallest valid value, so that recursive `$ref`s (trees, linked lists) terminate.
 */
const SOFT_DEPTH = 8;
/**
 * Absolute safety net. Schemas whose recursion is required all the way down (no null, no optional
 * property, no zero-length array) have no finite instance at all, so nothing we return could validate.
 */
const HARD_DEPTH = 32;
/** Limit on `$ref` / combinator expansions along one path; catches cycles that add no structure. */
const MAX_HOPS = 64;

/** Keywords whose list values accumulate, rather than override, when schemas are merged. */
const LIST_KEYWORDS = new Set(['required', 'propertyOrdering', 'property_ordering']);

const KNOWN_TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean', 'null']);

/** Fixed values for string formats: they only need to be valid, and fixed values keep outputs stable. */
const FORMAT_SAMPLES: Readonly<Record<string, string>> = {
  'date-time': '2024-01-01T00:00:00Z',
  date: '2024-01-01',
  time: '00:00:00Z',
  duration: 'PT1H',
  email: 'emulated@example.com',
  'idn-email': 'emulated@example.com',
  uri: 'https://example.com/emulated',
  url: 'https://example.com/emulated',
  iri: 'https://example.com/emulated',
  'uri-reference': 'https://example.com/emulated',
  'iri-reference': 'https://example.com/emulated',
  hostname: 'example.com',
  'idn-hostname': 'example.com',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
};

interface Walk {
  readonly root: unknown;
  readonly seed: string;
}

interface Cursor {
  /** JSON-pointer-like location of the value being generated; mixed into every seeded pick. */
  readonly path: string;
  /** Property name (or `<array name> <n>` for items) used to label generated strings. */
  readonly name: string | undefined;
  readonly depth: number;
  readonly hops: number;
}

/**
 * Produces a deterministic value that validates against `schema`.
 *
 * One walker serves both dialects the Gemini API accepts: the OpenAPI-subset `Schema` of
 * `responseSchema` (UPPERCASE types, `nullable`, `propertyOrdering`, snake_case spellings, int64 counts
 * as strings) and the JSON Schema of `responseJsonSchema` (type arrays, `$ref` into `$defs` /
 * `definitions`, `const`, `prefixItems`, exclusive bounds).
 *
 * Choices that are free (enum members, numbers, booleans) are derived from a hash of `seed` and the
 * value's location, so different seeds give different but reproducible values. Other rules:
 * - every declared property is emitted, in `propertyOrdering` order when present;
 * - arrays get `max(minItems ?? 1, 1)` items, capped by `maxItems`;
 * - `nullable` and `"null"` in a type array do not make the value null; `anyOf` / `oneOf` take the first
 *   branch that is not null-only;
 * - `allOf` branches are merged (properties unioned, `required` concatenated, types intersected);
 * - `{}` and unresolvable `$ref`s produce a string;
 * - below nesting depth 8 only the smallest valid value is produced (null when allowed, otherwise only
 *   required properties and `minItems` items) so recursive schemas terminate.
 *
 * Not attempted: `pattern`, `not`, `if`/`then`/`else`, `$id`-relative or remote `$ref`s, and
 * non-integer `multipleOf` (floating-point multiples rarely divide exactly).
 */
export function sampleFromSchema(schema: unknown, seed: string): unknown {
  return sample(schema, { root: schema, seed }, { path: '', name: undefined, depth: 0, hops: 0 });
}

function sample(schema: unknown, walk: Walk, cursor: Cursor): unknown {
  if (cursor.depth >= HARD_DEPTH || cursor.hops >= MAX_HOPS || schema === false) return null;
  if (!isRecord(schema)) return sampleString({}, walk, cursor);
  const minimal = cursor.depth >= SOFT_DEPTH;
  const hop: Cursor = { ...cursor, hops: cursor.hops + 1 };

  if (typeof schema.$ref === 'string') {
    return sample(mergeSchemas(resolveRef(walk.root, schema.$ref), without(schema, '$ref')), walk, hop);
  }
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0)
    return pickEnum(schema.enum, walk, cursor, minimal);

  const allOf = readField(schema, 'allOf');
  if (Array.isArray(allOf) && allOf.length > 0) {
    const merged = allOf.reduce<unknown>(
      (acc, branch) => mergeSchemas(acc, deref(branch, walk.root)),
      without(schema, 'allOf', 'all_of'),
    );
    return sample(merged, walk, hop);
  }
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const branches = readField(schema, keyword);
    if (Array.isArray(branches) && branches.length > 0) {
      const branch = chooseBranch(branches, walk.root, minimal);
      return sample(mergeSchemas(without(schema, keyword, snakeCase(keyword)), branch), walk, hop);
    }
  }

  const types = typeList(schema);
  if (minimal && allowsNull(schema)) return null;
  const type = types.find((t) => t !== 'null') ?? (types.length > 0 ? 'null' : inferType(schema));
  switch (type) {
    case 'object':
      return sampleObject(schema, walk, cursor, minimal);
    case 'array':
      return sampleArray(schema, walk, cursor, minimal);
    case 'integer':
      return sampleNumber(schema, walk, cursor, true);
    case 'number':
      return sampleNumber(schema, walk, cursor, false);
    case 'boolean':
      return (pick(walk, cursor, 'boolean') & 1) === 1;
    case 'null':
      return null;
    default:
      return sampleString(schema, walk, cursor);
  }
}

function sampleObject(schema: JsonObject, walk: Walk, cursor: Cursor, minimal: boolean): JsonObject {
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const required = stringList(schema.required);
  const ordering = stringList(readField(schema, 'propertyOrdering')).filter(
    (key) => Object.hasOwn(properties, key) || required.includes(key),
  );
  const keys = [...new Set([...ordering, ...Object.keys(properties), ...required])];
  const additional = readField(schema, 'additionalProperties');
  const extraSchema = isRecord(additional) ? additional : {};
  // Object.fromEntries defines own properties, so a property literally named "__proto__" is safe.
  const entries: Array<[string, unknown]> = (
    minimal ? keys.filter((key) => required.includes(key)) : keys
  ).map((key) => [
    key,
    sample(Object.hasOwn(properties, key) ? properties[key] : extraSchema, walk, child(cursor, key, key)),
  ]);
  const minProperties = asNumber(readField(schema, 'minProperties')) ?? 0;
  for (
    let n = 1;
    entries.length < minProperties && additional !== false && n <= minProperties + keys.length;
    n++
  ) {
    const key = `emulated_${n}`;
    if (!keys.includes(key)) entries.push([key, sample(extraSchema, walk, child(cursor, key, key))]);
  }
  return Object.fromEntries(entries);
}

function sampleArray(schema: JsonObject, walk: Walk, cursor: Cursor, minimal: boolean): unknown[] {
  const items = schema.items;
  // Draft 2020-12 spells tuples `prefixItems`; older drafts used an array-valued `items`.
  const prefixField = readField(schema, 'prefixItems');
  const prefix: unknown[] = Array.isArray(prefixField) ? prefixField : Array.isArray(items) ? items : [];
  const rest = Array.isArray(items) ? readField(schema, 'additionalItems') : items;
  const minItems = Math.max(0, Math.ceil(asNumber(readField(schema, 'minItems')) ?? 0));
  const maxItems = asNumber(readField(schema, 'maxItems'));
  let length = minimal ? minItems : Math.max(minItems, 1, prefix.length);
  if (rest === false) length = Math.min(length, prefix.length);
  if (maxItems !== undefined) length = Math.min(length, Math.max(0, Math.floor(maxItems)));
  const unique = readField(schema, 'uniqueItems') === true;
  const label = labelOf(schema, cursor);
  const values: unknown[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < length; i++) {
    const itemSchema = i < prefix.length ? prefix[i] : rest === undefined || rest === true ? {} : rest;
    let value: unknown;
    // Seeded picks can repeat (e.g. two enum draws); re-draw a few times when items must be unique.
    for (let attempt = 0; attempt < (unique ? 8 : 1); attempt++) {
      const segment = attempt === 0 ? String(i) : `${i}~${attempt}`;
      value = sample(itemSchema, walk, child(cursor, segment, `${label} ${i + 1}`));
      if (!unique || !seen.has(JSON.stringify(value))) break;
    }
    seen.add(JSON.stringify(value));
    values.push(value);
  }
  return values;
}

function sampleString(schema: JsonObject, walk: Walk, cursor: Cursor): string {
  const format = typeof schema.format === 'string' ? schema.format.toLowerCase() : '';
  const text =
    format === 'uuid'
      ? uuidFrom(walk, cursor)
      : (FORMAT_SAMPLES[format] ?? `emulated ${labelOf(schema, cursor)}`);
  // JSON Schema measures length in code points, not UTF-16 units.
  const chars = Array.from(text);
  const maxLength = asNumber(readField(schema, 'maxLength'));
  const minLength = asNumber(readField(schema, 'minLength')) ?? 0;
  if (maxLength !== undefined && chars.length > maxLength) chars.length = Math.max(0, Math.floor(maxLength));
  while (chars.length < minLength) chars.push('.');
  return chars.join('');
}

function sampleNumber(schema: JsonObject, walk: Walk, cursor: Cursor, integer: boolean): number {
  let lo = asNumber(schema.minimum);
  let hi = asNumber(schema.maximum);
  let loExclusive = false;
  let hiExclusive = false;
  // OpenAPI 3.0 / draft-04 use boolean exclusive flags; draft-06+ use numeric exclusive bounds.
  const exclusiveMin = readField(schema, 'exclusiveMinimum');
  const exclusiveMinValue = asNumber(exclusiveMin);
  if (exclusiveMin === true) loExclusive = true;
  else if (exclusiveMinValue !== undefined && (lo === undefined || exclusiveMinValue >= lo)) {
    lo = exclusiveMinValue;
    loExclusive = true;
  }
  const exclusiveMax = readField(schema, 'exclusiveMaximum');
  const exclusiveMaxValue = asNumber(exclusiveMax);
  if (exclusiveMax === true) hiExclusive = true;
  else if (exclusiveMaxValue !== undefined && (hi === undefined || exclusiveMaxValue <= hi)) {
    hi = exclusiveMaxValue;
    hiExclusive = true;
  }
  // Unbounded sides get a small, readable range.
  const low = lo ?? (hi === undefined ? 0 : hi - 100);
  const high = hi ?? low + 100;
  const fraction = pick(walk, cursor, 'number') / 2 ** 32;

  const multipleOf = asNumber(readField(schema, 'multipleOf'));
  if (integer || (multipleOf !== undefined && multipleOf > 0)) {
    const step =
      multipleOf !== undefined && multipleOf > 0 && (!integer || Number.isInteger(multipleOf))
        ? multipleOf
        : 1;
    let kLow = Math.ceil(low / step);
    if (loExclusive && kLow * step <= low) kLow++;
    let kHigh = Math.floor(high / step);
    if (hiExclusive && kHigh * step >= high) kHigh--;
    if (kLow > kHigh) return kLow * step; // unsatisfiable bounds: return something near them
    return (kLow + Math.floor(fraction * (kHigh - kLow + 1))) * step;
  }
  const value = Math.round((low + fraction * (high - low)) * 100) / 100;
  const outside =
    value < low || value > high || (loExclusive && value <= low) || (hiExclusive && value >= high);
  return outside ? (low + high) / 2 : value;
}

function pickEnum(values: unknown[], walk: Walk, cursor: Cursor, minimal: boolean): unknown {
  const nonNull = values.filter((value) => value !== null);
  const choices = (minimal && nonNull.length < values.length) || nonNull.length === 0 ? [null] : nonNull;
  return choices[pick(walk, cursor, 'enum') % choices.length];
}

/** Prefers a branch that can produce real data, except at the depth limit where null ends recursion. */
function chooseBranch(branches: unknown[], root: unknown, minimal: boolean): unknown {
  const resolved = branches.map((branch) => deref(branch, root));
  const preferred = minimal
    ? resolved.find((branch) => isRecord(branch) && allowsNull(branch))
    : resolved.find((branch) => !isRecord(branch) || typeList(branch).some((t) => t !== 'null'));
  return preferred ?? resolved[0];
}

function pick(walk: Walk, cursor: Cursor, purpose: string): number {
  return hash32(`${walk.seed}\u0000${cursor.path}\u0000${purpose}`);
}

function child(cursor: Cursor, segment: string, name: string): Cursor {
  return { path: `${cursor.path}/${segment}`, name, depth: cursor.depth + 1, hops: cursor.hops };
}

function labelOf(schema: JsonObject, cursor: Cursor): string {
  return cursor.name ?? (typeof schema.title === 'string' && schema.title !== '' ? schema.title : 'value');
}

function uuidFrom(walk: Walk, cursor: Cursor): string {
  const hex = [0, 1, 2, 3].map((n) => pick(walk, cursor, `uuid${n}`).toString(16).padStart(8, '0')).join('');
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Lower-cased, recognised entries of `type`, which may be a string or (JSON Schema) an array. */
function typeList(schema: JsonObject): string[] {
  const raw = Array.isArray(schema.type) ? schema.type : [schema.type];
  return raw
    .filter((type): type is string => typeof type === 'string')
    .map((type) => type.toLowerCase())
    .filter((type) => KNOWN_TYPES.has(type));
}

function allowsNull(schema: JsonObject): boolean {
  return (
    readField(schema, 'nullable') === true ||
    typeList(schema).includes('null') ||
    schema.const === null ||
    (Array.isArray(schema.enum) && schema.enum.includes(null))
  );
}

/** Gemini schemas may omit `type` (TYPE_UNSPECIFIED); guess it from the keywords that are present. */
function inferType(schema: JsonObject): string {
  const has = (...names: string[]) => names.some((name) => readField(schema, name) !== undefined);
  if (has('properties', 'required', 'additionalProperties', 'minProperties', 'propertyOrdering'))
    return 'object';
  if (has('items', 'prefixItems', 'minItems', 'maxItems')) return 'array';
  if (has('minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf')) return 'number';
  return 'string';
}

function resolveRef(root: unknown, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      return undefined;
    }
    if (isRecord(node) && Object.hasOwn(node, segment)) node = node[segment];
    else if (Array.isArray(node) && /^\d+$/.test(segment)) node = node[Number(segment)];
    else return undefined;
  }
  return node;
}

/** Follows a chain of `$ref`s (merging sibling keywords) so combinators can inspect the real branch. */
function deref(schema: unknown, root: unknown): unknown {
  let current = schema;
  for (let hops = 0; hops < MAX_HOPS && isRecord(current) && typeof current.$ref === 'string'; hops++) {
    current = mergeSchemas(resolveRef(root, current.$ref), without(current, '$ref'));
  }
  return current;
}

/**
 * Combines two schemas that must both hold. Properties present in both become an `allOf` of the two,
 * `required` / `propertyOrdering` lists are unioned, `type`s are intersected, and for any other keyword
 * the later schema wins, which is a simplification (it does not, e.g., take the tighter of two bounds).
 */
function mergeSchemas(first: unknown, second: unknown): unknown {
  if (!isRecord(first)) return isRecord(second) ? second : first;
  if (!isRecord(second)) return first;
  const merged = new Map<string, unknown>(Object.entries(first));
  for (const [key, value] of Object.entries(second)) {
    const existing = merged.get(key);
    if (key === 'properties' && isRecord(existing) && isRecord(value)) {
      const properties = new Map<string, unknown>(Object.entries(existing));
      for (const [name, propertySchema] of Object.entries(value)) {
        const previous = properties.get(name);
        properties.set(name, previous === undefined ? propertySchema : { allOf: [previous, propertySchema] });
      }
      merged.set(key, Object.fromEntries(properties));
    } else if (Array.isArray(existing) && Array.isArray(value) && LIST_KEYWORDS.has(key)) {
      merged.set(key, [...new Set([...existing, ...value])]);
    } else if (key === 'type' && existing !== undefined) {
      merged.set(key, intersectTypes(first, second));
    } else {
      merged.set(key, value);
    }
  }
  return Object.fromEntries(merged);
}

function intersectTypes(first: JsonObject, second: JsonObject): unknown {
  const a = typeList(first);
  const b = typeList(second);
  if (a.length === 0) return second.type;
  if (b.length === 0) return first.type;
  // "integer" is a subset of "number", so their intersection is "integer".
  const both = a.filter((type) => b.includes(type) || (type === 'integer' && b.includes('number')));
  for (const type of b)
    if (type === 'integer' && a.includes('number') && !both.includes(type)) both.push(type);
  return both.length > 0 ? both : second.type;
}

function without(schema: JsonObject, ...keys: string[]): JsonObject {
  return Object.fromEntries(Object.entries(schema).filter(([key]) => !keys.includes(key)));
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
