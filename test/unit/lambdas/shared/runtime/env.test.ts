import { describe, expect, it } from 'vitest';
import { ENV, inlineChoiceEnv, requireNumberEnv } from '../../../../../lambdas/shared/runtime/env.js';

describe('inlineChoiceEnv', () => {
  it("leaves the core's defaults when nothing is set, and keeps embeddings as files", () => {
    expect(inlineChoiceEnv({})).toEqual({ inlineEmbeddings: false });
  });

  it('reads the inline size bounds and the inline-embeddings switch', () => {
    expect(
      inlineChoiceEnv({
        [ENV.inlineMaxBytes]: '700',
        [ENV.inlineMaxAnswerBytes]: '4096',
        [ENV.inlineEmbeddings]: 'true',
      }),
    ).toEqual({ inlineMaxBytes: 700, inlineMaxAnswerBytes: 4096, inlineEmbeddings: true });
  });

  it('names a bound that is not a number', () => {
    expect(() => inlineChoiceEnv({ [ENV.inlineMaxAnswerBytes]: 'lots' })).toThrow(
      "environment variable INLINE_MAX_ANSWER_BYTES must be a number, got 'lots'",
    );
  });
});

describe('requireNumberEnv', () => {
  it('reads a number the construct always sets', () => {
    expect(requireNumberEnv(ENV.pollBackoffRate, { [ENV.pollBackoffRate]: '1.5' })).toBe(1.5);
  });

  it('names a variable that is missing, so the cold start fails by name', () => {
    expect(() => requireNumberEnv(ENV.pollMaxSeconds, {})).toThrow(
      'missing required environment variable POLL_MAX_SECONDS',
    );
  });

  it('names a variable that is not a number', () => {
    expect(() => requireNumberEnv(ENV.lineRetryRounds, { [ENV.lineRetryRounds]: 'two' })).toThrow(
      "environment variable LINE_RETRY_ROUNDS must be a number, got 'two'",
    );
  });
});
