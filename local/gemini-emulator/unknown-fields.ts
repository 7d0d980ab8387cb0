/**
 * Google's JSON parser refuses a request with a field its schema lacks: HTTP 400 `INVALID_ARGUMENT`,
 * one line per unknown name, `Invalid JSON payload received. Unknown name "generationConfg" at
 * 'batch.input_config.requests.requests[0].request': Cannot find field.`, with a
 * `google.rpc.BadRequest` field violation for each (seen in mnfst/llm-gateway #1858 and
 * zed-industries/zed #62539). The schema is the pipeline's own data (`request-schema.ts`), so the
 * emulator and Prepare agree on what Gemini knows.
 */
import {
  type UnknownField,
  unknownFieldMessage,
  unknownRequestFields,
} from '../../lambdas/prepare-requests/request-schema.js';
import { GoogleApiError } from './api-error.js';
import { isRecord } from './json-fields.js';
import type { BatchKind } from './line-codec.js';

/** Fields an inline item (`InlinedRequest`, `InlinedEmbedContentRequest`) has besides nothing else. */
const ITEM_FIELDS = new Set(['request', 'metadata']);

/** At most this many violations are reported for one create, as a bound on odd input. */
const MAX_VIOLATIONS = 100;

interface Violation {
  /** Where Google says the unknown name is; '' when it is at the top of what was parsed. */
  readonly field: string;
  readonly description: string;
}

function violation(field: UnknownField, prefix: string): Violation {
  const location = field.location ? `${prefix}.${field.location}` : prefix;
  return { field: location, description: unknownFieldMessage(field, prefix) };
}

function itemViolation(name: string, at: string): Violation {
  return {
    field: at,
    description: `Invalid JSON payload received. Unknown name "${name}" at '${at}': Cannot find field.`,
  };
}

/** The unknown fields of one request, worded as Google words them with `prefix` as its location. */
export function requestViolations(kind: BatchKind, request: unknown, prefix: string): Violation[] {
  return unknownRequestFields(kind, request).map((field) => violation(field, prefix));
}

/** Google's 400 for a set of violations: one message line and one field violation each. */
export function unknownFieldsError(violations: readonly Violation[]): GoogleApiError {
  return new GoogleApiError(400, violations.map((v) => v.description).join('\n'), [
    {
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: violations.map(({ field, description }) =>
        field ? { field, description } : { description },
      ),
    },
  ]);
}

/**
 * Refuses an inline create as Google does when any item, or any item's request, has a field the
 * schema lacks; Google rejects the whole create, not just the item.
 * @throws {GoogleApiError} 400 `INVALID_ARGUMENT`
 */
export function refuseUnknownInlineFields(kind: BatchKind, items: readonly unknown[]): void {
  const violations: Violation[] = [];
  for (const [index, item] of items.entries()) {
    if (violations.length >= MAX_VIOLATIONS) break;
    if (!isRecord(item)) continue;
    const at = `batch.input_config.requests.requests[${index}]`;
    for (const name of Object.keys(item)) {
      if (!ITEM_FIELDS.has(name)) violations.push(itemViolation(name, at));
    }
    violations.push(...requestViolations(kind, item.request, `${at}.request`));
  }
  if (violations.length > 0) throw unknownFieldsError(violations.slice(0, MAX_VIOLATIONS));
}

/**
 * The error a result line carries for a request with unknown fields, or undefined: `code` 400 and
 * Google's message lines, located under `request` (the shape of such a line is an assumption).
 */
export function unknownFieldsLineError(
  kind: BatchKind,
  request: unknown,
): { readonly code: number; readonly message: string } | undefined {
  const violations = requestViolations(kind, request, 'request');
  if (violations.length === 0) return undefined;
  return { code: 400, message: violations.map((v) => v.description).join('\n') };
}
