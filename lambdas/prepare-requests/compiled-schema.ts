/**
 * The request schema's data (`request-schema-data.ts`) compiled once at load: every message with
 * each accepted spelling (proto and JSON name) of each field, message-valued fields linked to their
 * message. What the unknown-field walk and the suggestions read.
 */
import type { BatchKind } from '../shared/gemini/gemini-batch-api.js';
import { type FieldSpec, FREE, REQUEST_MESSAGES, REQUEST_ROOTS, VALUE } from './request-schema-data.js';

/** What a field holds, as numbers the walk compares cheaply: a value, any names, a message, a map of messages. */
export const KIND_VALUE = 0;
export const KIND_FREE = 1;
export const KIND_MESSAGE = 2;
export const KIND_MAP = 3;

/** One field of a message, under both of its spellings. */
export class CompiledField {
  constructor(
    readonly protoName: string,
    readonly jsonName: string,
    readonly kind: number,
    /** Set for message and map fields once every message exists. */
    public message: CompiledMessage | undefined,
    /** `inline_data` (a `Part`'s, a function response part's): base64 media, priced per item, not as text. */
    readonly inlineMedia = protoName === 'inline_data',
  ) {}
}

/** One message of the schema: its fields by every accepted spelling. */
export class CompiledMessage {
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

/** Every message of the schema, by name. */
export const MESSAGES = compile(REQUEST_MESSAGES);
/** The message each kind of request is. */
export const ROOTS: Readonly<Record<BatchKind, CompiledMessage>> = {
  generate: MESSAGES.get(REQUEST_ROOTS.generate) as CompiledMessage,
  embed: MESSAGES.get(REQUEST_ROOTS.embed) as CompiledMessage,
};
