import { describe, expect, it } from 'vitest';
import { loneSurrogateIn, nestsDeeperThan } from '../../../../lambdas/prepare-requests/json-checks.js';

describe('nestsDeeperThan', () => {
  const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

  it('allows exactly the limit and refuses one level more', () => {
    expect(nestsDeeperThan(`{"a":${nested(4)}}`, 5)).toBe(false);
    expect(nestsDeeperThan(`{"a":${nested(5)}}`, 5)).toBe(true);
  });

  it('counts objects and arrays alike, and levels, not brackets', () => {
    expect(nestsDeeperThan('{"a":{"b":[{"c":1}]}}', 4)).toBe(false);
    expect(nestsDeeperThan('{"a":{"b":[{"c":1}]}}', 3)).toBe(true);
    expect(nestsDeeperThan(`[${Array.from({ length: 1000 }, () => '[[]]').join(',')}]`, 3)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes and all', () => {
    expect(nestsDeeperThan(`{"a":"${'['.repeat(50)}","b":"x\\"${'{'.repeat(50)}"}`, 1)).toBe(false);
    expect(nestsDeeperThan(`{"t":"say \\"[[[[\\" twice"}`, 1)).toBe(false);
  });

  it('ends a string at a quote after an escaped backslash', () => {
    // "\\\\" is a string holding one backslash; the bracket after it is structure.
    expect(nestsDeeperThan('{"a":"\\\\","b":[[]]}', 2)).toBe(true);
  });

  it('answers for a million levels without overflowing the stack', () => {
    expect(nestsDeeperThan(nested(1_000_000), 95)).toBe(true);
  });

  it('answers for text that is not JSON (JSON.parse says what is wrong)', () => {
    expect(nestsDeeperThan('{"open": "never closed', 1)).toBe(false);
    expect(nestsDeeperThan('[[[', 2)).toBe(true);
  });
});

describe('loneSurrogateIn', () => {
  const check = (text: string) => loneSurrogateIn(text, JSON.parse(text));

  it('finds a lone high or low surrogate and says where', () => {
    expect(check('{"request":{"contents":[{"parts":[{"text":"half \\ud83d"}]}]}}')).toBe(
      'request.contents[0].parts[0].text',
    );
    expect(check('{"a":["ok","\\ude00 alone"]}')).toBe('a[1]');
    expect(check('"\\udfff"')).toBe('(the value itself)');
  });

  it('finds one in a member name', () => {
    expect(check('{"a":{"\\ud800":1}}')).toBe('a.\ud800 (its name)');
  });

  it('accepts a surrogate pair, escaped or not, and an escaped backslash before "ud800"', () => {
    expect(check('{"t":"\\ud83d\\ude00"}')).toBeUndefined();
    expect(check('{"t":"😀"}')).toBeUndefined();
    expect(check('{"t":"\\\\ud800 is how you write it"}')).toBeUndefined();
  });
});
