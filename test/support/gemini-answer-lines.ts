/**
 * Result lines as Gemini writes them, for tests to feed Collect and for the fake to answer with:
 * one builder per kind of answer, and one that answers a whole chunk.
 */

/** Token counts the answer helpers put in each response. */
export const ANSWER_USAGE = { promptTokenCount: 7, candidatesTokenCount: 5, totalTokenCount: 12 } as const;
export const EMBED_TOKEN_COUNT = 3;

/** A generateContent result line for `key`, echoing `text`. */
export function generateAnswer(
  key: string,
  text = `answer to ${key}`,
  usage: Record<string, number> = ANSWER_USAGE,
): string {
  return JSON.stringify({
    key,
    response: {
      candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: usage,
    },
  });
}

/** A vector of three values that differs from key to key: an answer given to the wrong key shows. */
export function vectorOf(key: string): number[] {
  const hash = [...key].reduce((sum, char) => (sum * 33 + char.charCodeAt(0)) % 1_000_003, 5381);
  return [hash / 1_000_003, -(hash % 997) / 997, key.length / 100];
}

/** An embedContent result line for `key`; `tokenCount` is an int64, hence a string, as Gemini sends it. */
export function embedAnswer(key: string, tokenCount = EMBED_TOKEN_COUNT): string {
  return JSON.stringify({
    response: { tokenCount: String(tokenCount), embedding: { values: vectorOf(key) } },
    key,
  });
}

/** A per-request error line, a `google.rpc.Status` under `error`. */
export function errorAnswer(key: string, message = 'the request was refused', code = 3): string {
  return JSON.stringify({ key, error: { code, message } });
}

/**
 * One result line per chunk line (`{"key","request"}`): an embedding for an embed request
 * (`request.content`), a generated answer otherwise.
 */
export function answerAll(chunkLines: readonly string[]): string[] {
  return chunkLines.map((line) => {
    const { key, request } = JSON.parse(line) as { key: string; request?: Record<string, unknown> };
    return request && 'content' in request ? embedAnswer(key) : generateAnswer(key);
  });
}
