/**
 * Checks of a line's JSON text that `JSON.parse` does not make: nesting past Gemini's depth limit,
 * and strings that are not Unicode text (a lone UTF-16 surrogate). Both walk without recursion, so
 * no line, however deep, can overflow the stack.
 */
import { BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, OPEN_ARRAY, OPEN_OBJECT, QUOTE } from '../shared/json.js';

/**
 * Whether JSON text nests objects and arrays more than `limit` levels deep, the outermost value
 * being level 1. Iterative, so no depth can overflow the stack, and cheap: strings, the bulk of a
 * request, are skipped with `indexOf`; it stops at the first level past the limit. Text that is
 * not valid JSON gets an answer too (JSON.parse says what is wrong with it).
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  // Depth needs as many brackets: counting them with indexOf (memchr-fast) clears most lines at
  // half the cost of the scan below.
  let brackets = 0;
  for (const open of ['{', '[']) {
    for (let at = text.indexOf(open); at !== -1 && brackets <= limit; at = text.indexOf(open, at + 1))
      brackets += 1;
  }
  if (brackets <= limit) return false;
  let depth = 0;
  for (let at = 0; at < text.length; at += 1) {
    const char = text.charCodeAt(at);
    if (char === QUOTE) {
      // The closing quote is the next one not escaped: preceded by an even run of backslashes.
      let close = text.indexOf('"', at + 1);
      while (close !== -1) {
        let backslash = close - 1;
        while (text.charCodeAt(backslash) === BACKSLASH) backslash -= 1;
        if ((close - 1 - backslash) % 2 === 0) break;
        close = text.indexOf('"', close + 1);
      }
      if (close === -1) return false;
      at = close;
    } else if (char === OPEN_OBJECT || char === OPEN_ARRAY) {
      depth += 1;
      if (depth > limit) return true;
    } else if (char === CLOSE_OBJECT || char === CLOSE_ARRAY) {
      depth -= 1;
    }
  }
  return false;
}

/** An escaped UTF-16 surrogate, `\ud800` to `\udfff`: the only way JSON text from valid UTF-8 can carry a lone one. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Where a parsed JSON value holds a string (or a member name) with a lone UTF-16 surrogate, as a
 * path such as `request.contents[0].parts[0].text`; undefined when it holds none. `text` is the
 * value's JSON text: most lines carry no surrogate escape at all and are answered from it alone.
 * Iterative, like {@link nestsDeeperThan}.
 */
export function loneSurrogateIn(text: string, value: unknown): string | undefined {
  // `includes` first: three times cheaper than the regex on the many lines with no escape at all.
  if (!text.includes('\\u') || !SURROGATE_ESCAPE.test(text)) return undefined;
  const stack: { readonly value: unknown; readonly path: string }[] = [{ value, path: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value: current, path } = item;
    if (typeof current === 'string') {
      if (LONE_SURROGATE.test(current)) return path || '(the value itself)';
    } else if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index -= 1)
        stack.push({ value: current[index], path: `${path}[${index}]` });
    } else if (typeof current === 'object' && current !== null) {
      const entries = Object.entries(current);
      for (let index = entries.length - 1; index >= 0; index -= 1) {
        const [name, member] = entries[index] as [string, unknown];
        const memberPath = path === '' ? name : `${path}.${name}`;
        if (LONE_SURROGATE.test(name)) return `${memberPath} (its name)`;
        stack.push({ value: member, path: memberPath });
      }
    }
  }
  return undefined;
}
