/**
 * What to tell a person about a field Gemini does not know: the known name it most likely meant,
 * and the reason a line with such fields is rejected.
 */
import { type CompiledField, KIND_MESSAGE, MESSAGES } from './compiled-schema.js';
import type { UnknownField } from './request-schema.js';
import { REQUEST_ROOTS } from './request-schema-data.js';

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

/** How many unknown fields a reason names before it only counts the rest. */
const NAMED_UNKNOWN_FIELDS = 3;

const withSuggestion = (field: UnknownField): string => {
  const meant = closestKnownField(field);
  return `"${field.path}"${meant ? ` (did you mean "${meant}"?)` : ''}`;
};

/**
 * `unknown field "generationConfg" in the request (did you mean "generationConfig"?): Gemini refuses
 * requests with unknown fields`. Gemini's parser refuses the whole request over one unknown name,
 * so the line is better rejected here, with the name to fix, than sent and lost.
 */
export function unknownFieldsReason(fields: readonly UnknownField[]): string {
  const because = 'Gemini refuses requests with unknown fields';
  if (fields.length === 1) {
    const [field] = fields as [UnknownField];
    const meant = closestKnownField(field);
    return `unknown field "${field.path}" in the request${meant ? ` (did you mean "${meant}"?)` : ''}: ${because}`;
  }
  const named = fields.slice(0, NAMED_UNKNOWN_FIELDS).map(withSuggestion);
  const more = fields.length - named.length;
  const list =
    more > 0
      ? `${named.join(', ')} and ${more} more`
      : `${named.slice(0, -1).join(', ')} and ${named.at(-1)}`;
  return `unknown fields ${list} in the request: ${because}`;
}

/** ` (did you mean "contents" instead of "contnets"?)` when a field of a request without either is a misspelling of one. */
export function misspeltContents(request: Readonly<Record<string, unknown>>): string {
  for (const name of Object.keys(request)) {
    const meant = (['generate', 'embed'] as const)
      .map((kind) => closestKnownField({ name, path: name, location: '', message: REQUEST_ROOTS[kind] }))
      .filter((known) => known === 'contents' || known === 'content');
    // Both are a couple of edits from `contnet`: the one of the same length is the likelier.
    const best = meant.sort((a, b) => Math.abs(a.length - name.length) - Math.abs(b.length - name.length))[0];
    if (best) return ` (did you mean "${best}" instead of "${name}"?)`;
  }
  return '';
}
