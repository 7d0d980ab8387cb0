/**
 * Partial responses: Google APIs take the `fields` system parameter
 * (https://cloud.google.com/apis/docs/system-parameters) and answer with only the fields it
 * selects, so a poller can read a job's state without its inline answers. The syntax is Google's
 * partial-response syntax: a comma-separated list of field paths, `/` for a sub-field, parentheses
 * for a sub-selection and `*` for every field: `name,done,metadata(state,batchStats),error`.
 */
import { invalidArgument } from './api-error.js';
import { isRecord, snakeCase } from './json-fields.js';

/** A parsed selection: each selected field, with what of it is selected (`true`: all of it). */
export type FieldSelection = ReadonlyMap<string, FieldSelection | true>;

type MutableSelection = Map<string, MutableSelection | true>;

const NAME = /[A-Za-z0-9_@.$-]|\*/;

/**
 * Parses a `fields` value.
 * @throws {GoogleApiError} 400 `INVALID_ARGUMENT` when it is not valid partial-response syntax.
 */
export function parseFieldSelection(text: string): FieldSelection {
  let position = 0;
  const fail = (): never => {
    throw invalidArgument(`Invalid field selection ${JSON.stringify(text)} at position ${position}.`);
  };
  const name = (): string => {
    const start = position;
    while (position < text.length && NAME.test(text[position] as string)) position += 1;
    if (position === start) fail();
    return text.slice(start, position);
  };
  // list := item (',' item)* ; item := name ('/' name)* ('(' list ')')?
  const list = (into: MutableSelection): void => {
    for (;;) {
      const path = [name()];
      while (text[position] === '/') {
        position += 1;
        path.push(name());
      }
      let leaf: MutableSelection | true = true;
      if (text[position] === '(') {
        position += 1;
        leaf = new Map();
        list(leaf);
        if (text[position] !== ')') fail();
        position += 1;
      }
      add(into, path, leaf);
      if (text[position] !== ',') return;
      position += 1;
    }
  };
  const selection: MutableSelection = new Map();
  list(selection);
  if (position !== text.length) fail();
  return selection;
}

/** Adds `path` → `leaf` to a selection; selecting a field whole wins over selecting parts of it. */
function add(into: MutableSelection, path: readonly string[], leaf: MutableSelection | true): void {
  const [head, ...rest] = path as [string, ...string[]];
  const existing = into.get(head);
  if (existing === true) return;
  if (rest.length === 0 && leaf === true) {
    into.set(head, true);
    return;
  }
  const child: MutableSelection = existing ?? new Map();
  into.set(head, child);
  if (rest.length > 0) add(child, rest, leaf);
  else if (leaf !== true) for (const [key, value] of leaf) add(child, [key], value);
}

/**
 * What of `value` a selection keeps. Lists apply the selection to each element; a field may be
 * named in camelCase or snake_case; fields the value lacks are left out. An object's `@type` stays
 * whenever any of its fields is selected (an assumption: without it a `google.protobuf.Any`, such as
 * an Operation's `metadata`, could not be read).
 */
export function selectFields(value: unknown, selection: FieldSelection): unknown {
  if (Array.isArray(value)) return value.map((item) => selectFields(item, selection));
  if (!isRecord(value)) return value;
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const chosen = key === '@type' ? true : selectionFor(selection, key);
    if (chosen === undefined) continue;
    kept[key] = chosen === true ? field : selectFields(field, chosen);
  }
  if (Object.keys(kept).length === 1 && '@type' in kept && !selection.has('@type')) return {};
  return kept;
}

function selectionFor(selection: FieldSelection, key: string): FieldSelection | true | undefined {
  return selection.get(key) ?? selection.get(snakeCase(key)) ?? selection.get('*');
}
