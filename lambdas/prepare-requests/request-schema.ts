/**
 * Which fields of a Gemini request Gemini does not know. Google's JSON parser refuses a request
 * with an unknown field name (`Invalid JSON payload received. Unknown name "generationConfg" at
 * '…': Cannot find field.`); in a batch that costs the whole job, or a line's answer, hours later.
 * Prepare finds such lines before anything is sent, and the emulator refuses them as Google does.
 *
 * The field names are data (`request-schema-data.ts`, with its sources: the v1beta protos and
 * `@google/genai` 3.1.0, read 2026-12-01), compiled once at load into a walk that visits only
 * message-valued fields: strings and free-form values (`functionCall.args`, `responseJsonSchema`,
 * …) are never entered, and nothing is allocated for a request without unknown fields.
 */
import type { BatchKind } from '../shared/gemini/gemini-batch-api.js';
import { type FieldSpec, FREE, REQUEST_MESSAGES, REQUEST_ROOTS, VALUE } from './request-schema-data.js';

/** The message each kind of request is: `GenerateContentRequest`, `EmbedContentRequest`. */
export { REQUEST_ROOTS } from './request-schema-data.js';

/** Where the field names come from, for messages and docs. */
export const REQUEST_SCHEMA_SOURCE =
  'Gemini API v1beta: googleapis/googleapis protos at f8291d2b and @google/genai 3.1.0, read 2026-12-01';

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

const KIND_VALUE = 0;
const KIND_FREE = 1;
const KIND_MESSAGE = 2;
const KIND_MAP = 3;

class CompiledField {
  constructor(
    readonly protoName: string,
    readonly jsonName: string,
    readonly kind: number,
    /** Set for message and map fields once every message exists. */
    public message: CompiledMessage | undefined,
  ) {}
}

class CompiledMessage {
  /**
   * Every accepted spelling (proto name and JSON name) to its field. A prototype-less object, not
   * a Map: property lookup on it measured about a fifth faster, and `__proto__` is just a name.
   */
  readonly fields: Record<string, CompiledField> = Object.create(null);
  constructor(readonly name: string) {}
}

/** `response_mime_type` → `responseMimeType`: protobuf's JSON name rule. */
const lowerCamel = (protoName: string): string =>
  protoName.replace(/_([a-z0-9])/g, (_match, next: string) => next.toUpperCase());

function compile(
  messages: Readonly<Record<string, Readonly<Record<string, FieldSpec>>>>,
): ReadonlyMap<string, CompiledMessage> {
  const compiled = new Map<string, CompiledMessage>();
  for (const name of Object.keys(messages)) compiled.set(name, new CompiledMessage(name));
  const pending: { field: CompiledField; target: string; owner: string }[] = [];
  for (const [name, fields] of Object.entries(messages)) {
    const message = compiled.get(name) as CompiledMessage;
    for (const [protoName, spec] of Object.entries(fields)) {
      const type = typeof spec === 'object' && 'json' in spec ? spec.type : spec;
      const jsonName = typeof spec === 'object' && 'json' in spec ? spec.json : lowerCamel(protoName);
      const kind =
        type === VALUE
          ? KIND_VALUE
          : type === FREE
            ? KIND_FREE
            : typeof type === 'object'
              ? KIND_MAP
              : KIND_MESSAGE;
      const field = new CompiledField(protoName, jsonName, kind, undefined);
      if (kind === KIND_MESSAGE || kind === KIND_MAP) {
        pending.push({ field, target: typeof type === 'object' ? type.map : type, owner: name });
      }
      message.fields[protoName] = field;
      message.fields[jsonName] = field;
    }
  }
  for (const { field, target, owner } of pending) {
    const message = compiled.get(target);
    if (!message)
      throw new Error(`request schema: ${owner}.${field.protoName} names unknown message ${target}`);
    field.message = message;
  }
  return compiled;
}

const MESSAGES = compile(REQUEST_MESSAGES);
const ROOTS: Readonly<Record<BatchKind, CompiledMessage>> = {
  generate: MESSAGES.get(REQUEST_ROOTS.generate) as CompiledMessage,
  embed: MESSAGES.get(REQUEST_ROOTS.embed) as CompiledMessage,
};

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

const EMPTY: readonly UnknownField[] = Object.freeze([]);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

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
    if (!isObject(item)) continue;
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
    if (isObject(item)) {
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
  if (!isObject(request)) return EMPTY;
  depth = 0;
  found = undefined;
  limit = maxFields;
  walkMessage(ROOTS[kind], request);
  const result = found ?? EMPTY;
  found = undefined;
  return result;
}

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

/** `generation_Config`, `GenerationConfig` → `generationconfig`: spelling styles aside. */
const normalized = (name: string): string => name.replace(/_/g, '').toLowerCase();

/** Edit distance counting a swap of neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (d[(i - 1) * cols + j] as number) + 1,
        (d[i * cols + j - 1] as number) + 1,
        (d[(i - 1) * cols + j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (d[(i - 2) * cols + j - 2] as number) + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1] as number;
}

/** How many edits a name may be from a known one and still be taken for a misspelling of it. */
const tolerance = (length: number): number => (length <= 4 ? 1 : length <= 10 ? 2 : 3);

/**
 * The known name an unknown field most likely meant, in the same spelling style (a name with `_`
 * gets the proto spelling): a field of the same message within a few edits (`generationConfg` →
 * `generationConfig`, `txt` → `text`); failing that, the one field whose name contains it
 * (`budget` → `thinkingBudget`); failing that, a field of one of its messages written a level too
 * high (`temperature` on the request → `generationConfig.temperature`). Undefined when
 * nothing is close or two different fields are equally close.
 */
export function closestKnownField(field: UnknownField): string | undefined {
  const message = MESSAGES.get(field.message);
  if (!message) return undefined;
  const snake = field.name.includes('_');
  const spell = (known: CompiledField) => (snake ? known.protoName : known.jsonName);
  const wanted = normalized(field.name);
  let best: CompiledField | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  let tie = false;
  for (const [spelling, known] of Object.entries(message.fields)) {
    // Distance ignoring spelling style first, then as written, so `responseJsonSchem` picks
    // `responseJsonSchema` over `_responseJsonSchema`.
    const distance = editDistance(wanted, normalized(spelling));
    if (distance > tolerance(wanted.length)) continue;
    const score = distance * 1000 + editDistance(field.name, spelling);
    if (score < bestScore) {
      best = known;
      bestScore = score;
      tie = false;
    } else if (score === bestScore && known !== best) {
      tie = true;
    }
  }
  if (best && !tie) return spell(best);
  // A part of a longer name (`budget` → `thinkingBudget`, `mimeType` → `responseMimeType`), if only one has it.
  if (wanted.length >= 4) {
    let containing: CompiledField | undefined;
    for (const [spelling, known] of Object.entries(message.fields)) {
      if (!normalized(spelling).includes(wanted) || known === containing) continue;
      if (containing) {
        containing = undefined;
        break;
      }
      containing = known;
    }
    if (containing) return spell(containing);
  }
  for (const holder of new Set(Object.values(message.fields))) {
    if (holder.kind !== KIND_MESSAGE || !holder.message) continue;
    for (const [spelling, known] of Object.entries(holder.message.fields)) {
      if (normalized(spelling) === wanted) return `${spell(holder)}.${spell(known)}`;
    }
  }
  return undefined;
}
