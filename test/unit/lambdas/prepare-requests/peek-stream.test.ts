import { describe, expect, it } from 'vitest';
import { peekStream } from '../../../../lambdas/prepare-requests/peek-stream.js';

describe('peekStream', () => {
  /** A source that records whether it was released. */
  function source(pieces: readonly string[]) {
    const state = { released: false };
    async function* stream(): AsyncGenerator<Uint8Array> {
      try {
        for (const piece of pieces) yield Buffer.from(piece);
      } finally {
        state.released = true;
      }
    }
    return { stream: stream(), state };
  }
  const all = async (body: AsyncIterable<Uint8Array>) => {
    const pieces: Uint8Array[] = [];
    for await (const piece of body) pieces.push(piece);
    return Buffer.concat(pieces).toString();
  };

  it('reads the first bytes ahead and still yields every byte from the first', async () => {
    const { stream } = source(['ab', 'cd', 'ef', 'gh']);
    const peeked = await peekStream(stream, 5);
    expect(Buffer.from(peeked.head).toString()).toBe('abcde');
    expect(await all(peeked.body)).toBe('abcdefgh');
  });

  it('gives the whole stream as the head when it is shorter', async () => {
    const peeked = await peekStream(source(['ab']).stream, 64);
    expect(Buffer.from(peeked.head).toString()).toBe('ab');
    expect(await all(peeked.body)).toBe('ab');
  });

  it('releases the source when its reader stops early, even within the bytes read ahead', async () => {
    for (const stopAfter of [1, 3]) {
      const { stream, state } = source(['ab', 'cd', 'ef', 'gh']);
      const peeked = await peekStream(stream, 4);
      let pieces = 0;
      for await (const _ of peeked.body) if (++pieces === stopAfter) break;
      expect(state.released).toBe(true);
    }
  });

  it('releases the source when closed without reading the body', async () => {
    const { stream, state } = source(['ab', 'cd', 'ef']);
    const peeked = await peekStream(stream, 2);
    await peeked.close();
    expect(state.released).toBe(true);
  });
});
