/**
 * EventBridge event-pattern matching, for the subset of the pattern language the pipeline's rules
 * use (and a little more), so offline code and tests decide "does this event start a run?" with
 * the rule's own synthesized pattern. Operators outside the subset throw rather than guess.
 *
 * Semantics follow EventBridge: every field named in the pattern must match; an array lists
 * alternatives (any one matches); an event array matches when any of its elements does.
 */
import { asArray, isRecord } from './json-value.js';

/** An EventBridge event pattern, as it appears in a template's `EventPattern`. */
export type EventPattern = { readonly [field: string]: EventPattern | readonly unknown[] };

/** Whether `event` matches `pattern`. */
export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  if (!isRecord(event)) return false;
  return Object.entries(pattern).every(([field, rule]) => {
    const present = Object.hasOwn(event, field);
    const value = present ? event[field] : undefined;
    if (Array.isArray(rule)) return matchesAny(rule, present, value);
    if (!present) return false;
    return matchesEventPattern(rule as EventPattern, value);
  });
}

function matchesAny(alternatives: readonly unknown[], present: boolean, value: unknown): boolean {
  return alternatives.some((matcher) => {
    if (isRecord(matcher) && 'exists' in matcher) return matcher.exists === present;
    if (!present) return false;
    return asArray(value).some((one) => matchesOne(matcher, one));
  });
}

function matchesOne(matcher: unknown, value: unknown): boolean {
  if (!isRecord(matcher)) return matcher === value;
  const entries = Object.entries(matcher);
  if (entries.length !== 1) throw new Error(`unsupported event pattern matcher ${JSON.stringify(matcher)}`);
  const [operator, operand] = entries[0] as [string, unknown];
  if (typeof value !== 'string') {
    if (operator === 'anything-but') return !asArray(operand).includes(value);
    return false;
  }
  switch (operator) {
    case 'prefix':
      return isRecord(operand)
        ? startsWithIgnoreCase(value, ignoreCaseOperand(operand))
        : value.startsWith(text(operand));
    case 'suffix':
      return isRecord(operand)
        ? endsWithIgnoreCase(value, ignoreCaseOperand(operand))
        : value.endsWith(text(operand));
    case 'equals-ignore-case':
      return value.toLowerCase() === text(operand).toLowerCase();
    case 'wildcard':
      return wildcardRegExp(text(operand)).test(value);
    case 'anything-but':
      if (isRecord(operand)) return !matchesOne(operand, value);
      return !asArray(operand).includes(value);
    default:
      throw new Error(`unsupported event pattern operator '${operator}'`);
  }
}

/** An EventBridge wildcard as an anchored regular expression: `*` is any run of characters, `\*` a star. */
export function wildcardRegExp(wildcard: string): RegExp {
  let source = '';
  for (let i = 0; i < wildcard.length; i += 1) {
    const char = wildcard[i] as string;
    if (char === '\\' && i + 1 < wildcard.length) {
      i += 1;
      source += escapeRegExp(wildcard[i] as string);
    } else if (char === '*') {
      source += '.*';
    } else {
      source += escapeRegExp(char);
    }
  }
  return new RegExp(`^${source}$`, 's');
}

function escapeRegExp(char: string): string {
  return char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function ignoreCaseOperand(operand: Record<string, unknown>): string {
  if (!('equals-ignore-case' in operand)) {
    throw new Error(`unsupported event pattern operand ${JSON.stringify(operand)}`);
  }
  return text(operand['equals-ignore-case']);
}

function startsWithIgnoreCase(value: string, prefix: string): boolean {
  return value.toLowerCase().startsWith(prefix.toLowerCase());
}

function endsWithIgnoreCase(value: string, suffix: string): boolean {
  return value.toLowerCase().endsWith(suffix.toLowerCase());
}

function text(operand: unknown): string {
  if (typeof operand !== 'string')
    throw new Error(`expected a string operand, got ${JSON.stringify(operand)}`);
  return operand;
}
