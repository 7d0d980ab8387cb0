/**
 * Whether the trigger rule of the synthesized template would start a run for a file once uploaded:
 * checked before the local stack starts, so a misnamed file is refused at once.
 */
import { basename } from 'node:path';
import { objectCreatedEvent } from '../runner/events.js';
import { type EventPattern, matchesEventPattern } from '../template/event-pattern.js';
import { asArray, isRecord } from '../template/json-value.js';

/** The trigger rule and the bucket it watches, as the runner reads them from the template. */
export interface TriggerRule {
  readonly inputPattern: EventPattern;
  readonly inputPrefix: string;
  readonly bucket: string;
}

/**
 * Why the upload of `path` (as `<inputPrefix><file name>`) would start no run, naming the keys
 * that do; undefined when the trigger rule matches it. The rule's own pattern decides, matched as
 * EventBridge matches it: case-sensitively, character by character ("Matching event values",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html; only the
 * `equals-ignore-case` operators fold case,
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html),
 * so `a.JSONL` starts nothing where the rule asks for `*.jsonl`.
 */
export function triggerRefusal(path: string, rule: TriggerRule): string | undefined {
  const key = `${rule.inputPrefix}${basename(path)}`;
  const event = objectCreatedEvent({ bucket: rule.bucket, key, size: 1, etag: '0' }, '0');
  if (matchesEventPattern(rule.inputPattern, event)) return undefined;
  const patterns = keyPatterns(rule.inputPattern);
  const which = patterns.length > 0 ? patterns.join(' or ') : 'the trigger rule';
  return `${basename(path)} would start no run: only uploads whose key matches ${which} do (case-sensitive, as in EventBridge); rename the file to end in .jsonl`;
}

/** The rule's matchers on `detail.object.key`, written as a person reads them (`inputs/*.jsonl`). */
export function keyPatterns(pattern: EventPattern): string[] {
  const detail = pattern.detail;
  const object = isRecord(detail) ? detail.object : undefined;
  const key = isRecord(object) ? object.key : undefined;
  return asArray(key).map((matcher) => {
    if (!isRecord(matcher)) return String(matcher);
    if (typeof matcher.wildcard === 'string') return matcher.wildcard;
    if (typeof matcher.prefix === 'string') return `${matcher.prefix}*`;
    if (typeof matcher.suffix === 'string') return `*${matcher.suffix}`;
    return JSON.stringify(matcher);
  });
}
