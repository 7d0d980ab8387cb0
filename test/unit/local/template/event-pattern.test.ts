import { describe, expect, it } from 'vitest';
import { type EventPattern, matchesEventPattern } from '../../../../local/template/event-pattern.js';

describe('matchesEventPattern', () => {
  it.each([
    [{ a: ['x'] }, { a: 'x' }, true],
    [{ a: ['x'] }, { a: 'y' }, false],
    [{ a: ['x'] }, {}, false],
    [{ a: ['x', 'y'] }, { a: 'y' }, true],
    [{ a: ['x'] }, { a: ['z', 'x'] }, true],
    [{ a: [5] }, { a: 5 }, true],
    [{ a: { b: ['x'] } }, { a: { b: 'x' } }, true],
    [{ a: { b: ['x'] } }, { a: 'x' }, false],
    [{ a: [{ prefix: 'in/' }] }, { a: 'in/x' }, true],
    [{ a: [{ prefix: 'in/' }] }, { a: 'out/in/x' }, false],
    [{ a: [{ prefix: { 'equals-ignore-case': 'IN/' } }] }, { a: 'in/x' }, true],
    [{ a: [{ suffix: '.jsonl' }] }, { a: 'x.jsonl' }, true],
    [{ a: [{ suffix: { 'equals-ignore-case': '.JSONL' } }] }, { a: 'x.jsonl' }, true],
    [{ a: [{ 'equals-ignore-case': 'AbC' }] }, { a: 'aBc' }, true],
    [{ a: [{ wildcard: 'in/*.jsonl' }] }, { a: 'in/a/b.jsonl' }, true],
    [{ a: [{ wildcard: 'in/*.jsonl' }] }, { a: 'x/in/a.jsonl' }, false],
    [{ a: [{ wildcard: 'in/\\*.jsonl' }] }, { a: 'in/*.jsonl' }, true],
    [{ a: [{ wildcard: 'in/\\*.jsonl' }] }, { a: 'in/a.jsonl' }, false],
    [{ a: [{ wildcard: 'a.b' }] }, { a: 'aXb' }, false],
    [{ a: [{ 'anything-but': ['x'] }] }, { a: 'y' }, true],
    [{ a: [{ 'anything-but': ['x'] }] }, { a: 'x' }, false],
    [{ a: [{ 'anything-but': { prefix: 'work/' } }] }, { a: 'work/x' }, false],
    [{ a: [{ exists: true }] }, { a: 'x' }, true],
    [{ a: [{ exists: false }] }, {}, true],
    [{ a: [{ exists: false }] }, { a: 'x' }, false],
  ] as [EventPattern, unknown, boolean][])('matches %j against %j: %s', (pattern, event, expected) => {
    expect(matchesEventPattern(pattern, event)).toBe(expected);
  });

  it('throws on operators it does not implement instead of guessing', () => {
    expect(() => matchesEventPattern({ a: [{ numeric: ['>', 1] }] }, { a: 'x' })).toThrow(
      "unsupported event pattern operator 'numeric'",
    );
  });
});
