/** Input lines as users write them, for the workflow tests' files. */

/** A Gemini generate request line: one user turn of `text`. */
export const generateLine = (key: string, text: string): string =>
  JSON.stringify({ key, request: { contents: [{ role: 'user', parts: [{ text }] }] } });

/** A Gemini embedding request line of `text`, 8 dimensions (small answers). */
export const embedLine = (key: string, text: string): string =>
  JSON.stringify({ key, request: { content: { parts: [{ text }] }, outputDimensionality: 8 } });
