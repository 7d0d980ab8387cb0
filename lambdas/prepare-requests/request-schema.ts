/**
 * Which fields of a Gemini request Gemini does not know. Google's JSON parser refuses a request
 * with an unknown field name (`Invalid JSON payload received. Unknown name "generationConfg" at
 * '…': Cannot find field.`); in a batch that costs the whole job, or a line's answer, hours later.
 * Prepare finds such lines before anything is sent, and the emulator refuses them as Google does.
 *
 * The field names are data (`request-schema-data.ts`, with its sources: the v1beta protos and
 * `@google/genai` 3.1.0, read 2026-12-01), compiled once at load (`compiled-schema.ts`) for a walk that visits only
 * message-valued fields: strings and free-form values (`functionCall.args`, `responseJsonSchema`,
 * …) are never entered, and nothing is allocated for a request without unknown fields.
 */
import type { BatchKind } from '../shared/gemini/gemini-batch-api.js';
import { isJsonObject } from '../shared/json.js';
import { type CompiledMessage, KIND_MAP, KIND_MESSAGE, ROOTS } from './compiled-schema.js';

/** One field of a request that Gemini's v1beta schema does not have. */
export interface UnknownField {
  /** The name as written: `generationConfg`. */
  readonly name: string;
  /** Where it is, as written: `generationConfg`, `contents[0].parts[0].txt`, `…properties.city.tyep`. */
  readonly path: string;
  /**
   * Where Google's error message says it is: the object holding it, in proto field names, with map
   * entries as `[i].value` — `contents[0].parts[0]`, `generation_config.response_schema.properties[0].value`;
   * '' for a field of the request itself.
   */
  readonly location: string;
  /** The message that has no such field: `Part`, `GenerationConfig`, … */
  readonly message: string;
}

/** At most this many unknown fields are reported per request: enough to act on, bounded for odd input. */
export const MAX_UNKNOWN_FIELDS = 100;

/**
 * Deeper than this the walk stops looking: Google's parser refuses such nesting anyway (protobuf's
 * recursion limit is 100), and a pathological line must not overflow the stack.
 */
const MAX_DEPTH = 100;
const FRAME_FIELD = 0;
const FRAME_INDEX = 1;
const FRAME_ENTRY = 2;

/**
 * The path from the request to the object being walked, one frame per step, in arrays reused for
 * every request: rendered into strings only when an unknown field is found.
 */
const frameKind: number[] = [];
const frameName: string[] = [];
const frameProto: string[] = [];
const frameIndex: number[] = [];
let depth = 0;
let found: UnknownField[] | undefined;
let limit = MAX_UNKNOWN_FIELDS;
let inlineMedia = false;

const EMPTY: readonly UnknownField[] = Object.freeze([]);

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const pathStep = (name: string, first: boolean): string =>
  IDENTIFIER.test(name) ? (first ? name : `.${name}`) : `[${JSON.stringify(name)}]`;

function report(message: CompiledMessage, name: string): void {
  found ??= [];
  if (found.length >= limit) return;
  let path = '';
  let location = '';
  for (let i = 0; i < depth; i++) {
    const kind = frameKind[i];
    if (kind === FRAME_FIELD) {
      path += pathStep(frameName[i] as string, i === 0);
      location += i === 0 ? frameProto[i] : `.${frameProto[i]}`;
    } else if (kind === FRAME_INDEX) {
      path += `[${frameIndex[i]}]`;
      location += `[${frameIndex[i]}]`;
    } else {
      path += pathStep(frameName[i] as string, false);
      location += `[${frameIndex[i]}].value`;
    }
  }
  path += pathStep(name, depth === 0);
  found.push({ name, path, location, message: message.name });
}

function push(kind: number, name: string, proto: string, index: number): void {
  frameKind[depth] = kind;
  frameName[depth] = name;
  frameProto[depth] = proto;
  frameIndex[depth] = index;
  depth += 1;
}

function walkMessage(message: CompiledMessage, value: Record<string, unknown>): void {
  // JSON.parse builds plain objects with own enumerable properties only, so for…in is exact here.
  for (const key in value) {
    const field = message.fields[key];
    if (field === undefined) {
      report(message, key);
      continue;
    }
    if (field.inlineMedia) inlineMedia = true;
    if (field.kind < KIND_MESSAGE || depth >= MAX_DEPTH) continue;
    const child = value[key];
    if (typeof child !== 'object' || child === null) continue;
    const target = field.message as CompiledMessage;
    push(FRAME_FIELD, key, field.protoName, 0);
    if (field.kind === KIND_MAP) walkMap(target, child);
    else if (Array.isArray(child)) walkList(target, child);
    else walkMessage(target, child as Record<string, unknown>);
    depth -= 1;
  }
}

function walkList(message: CompiledMessage, list: readonly unknown[]): void {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isJsonObject(item)) continue;
    push(FRAME_INDEX, '', '', i);
    walkMessage(message, item);
    depth -= 1;
  }
}

function walkMap(message: CompiledMessage, map: object): void {
  if (Array.isArray(map)) return;
  let ordinal = 0;
  for (const key in map) {
    const item = (map as Record<string, unknown>)[key];
    if (isJsonObject(item)) {
      push(FRAME_ENTRY, key, '', ordinal);
      walkMessage(message, item);
      depth -= 1;
    }
    ordinal += 1;
  }
}

/**
 * Every field of a `generate` (`GenerateContentRequest`) or `embed` (`EmbedContentRequest`) request
 * that Gemini's v1beta schema does not have, in the order they appear, camelCase and snake_case
 * spellings both accepted. Values that are not objects where a message is expected are left to
 * Gemini to judge: only names are checked. Returns the same empty array whenever nothing is found.
 *
 * @param maxFields - stop after this many. @default MAX_UNKNOWN_FIELDS
 */
export function unknownRequestFields(
  kind: BatchKind,
  request: unknown,
  maxFields = MAX_UNKNOWN_FIELDS,
): readonly UnknownField[] {
  if (!isJsonObject(request)) return EMPTY;
  depth = 0;
  found = undefined;
  limit = maxFields;
  inlineMedia = false;
  walkMessage(ROOTS[kind], request);
  const result = found ?? EMPTY;
  found = undefined;
  return result;
}

/**
 * Whether the request last given to {@link unknownRequestFields} names inline media (`inlineData`
 * of a part), whose base64 the token estimate must skip. Found by the walk that visits every part
 * anyway: a search of the whole line's text for the name cost 3% of Prepare.
 */
export const lastRequestHasInlineMedia = (): boolean => inlineMedia;

/**
 * Google's message for one unknown field, as its JSON parser words it (seen in
 * google-gemini/gemini-cli#13972, zed-industries/zed#44875):
 * `Invalid JSON payload received. Unknown name "txt" at 'requests[0].request.contents[0].parts[0]': Cannot find field.`
 *
 * @param locationPrefix - where the request sits in the body Google parsed, e.g.
 *   `requests[0].request`; '' for a request that is the whole body.
 */
export function unknownFieldMessage(field: UnknownField, locationPrefix = ''): string {
  const at =
    locationPrefix && field.location
      ? `${locationPrefix}.${field.location}`
      : locationPrefix || field.location;
  return `Invalid JSON payload received. Unknown name "${field.name}"${at ? ` at '${at}'` : ''}: Cannot find field.`;
}
