import { describe, expect, it } from 'vitest';
import { hasMemberCount } from '../../../../lambdas/shared/json.js';

describe('hasMemberCount', () => {
  it('counts the members of a parsed object, exactly', () => {
    const parsed = JSON.parse('{"key":"a","request":{"x":1,"y":2,"z":3}}');
    expect(hasMemberCount(parsed, 2)).toBe(true);
    expect(hasMemberCount(parsed, 1)).toBe(false);
    expect(hasMemberCount(parsed, 3)).toBe(false);
    expect(hasMemberCount({}, 0)).toBe(true);
  });

  it('counts a member named __proto__ like any other', () => {
    expect(hasMemberCount(JSON.parse('{"__proto__":1,"key":"a"}'), 2)).toBe(true);
  });
});
