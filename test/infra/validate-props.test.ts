import { Duration, Size } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { synthPipeline } from './helpers.js';

describe('GeminiBatchPipeline prop validation', () => {
  it.each([
    [
      { jobLimits: { maxFileSize: Size.gibibytes(3) } },
      'job limit maxFileSize must be more than 0 and at most 2 GB',
    ],
    [{ jobLimits: { maxRequests: 0 } }, 'job limit maxRequests must be a positive whole number, got 0'],
    [{ jobLimits: { maxTokens: 1.5 } }, 'job limit maxTokens must be a positive whole number, got 1.5'],
    [{ jobLimits: { inlineThreshold: Size.mebibytes(20) } }, 'job limit inlineThreshold must be under 20 MB'],
    [{ maxLineSize: Size.bytes(10) }, 'max line size must be between 1 KiB and 512 MiB, got 10 bytes'],
    [
      { submitDeadline: Duration.hours(72) },
      'submit deadline must be at least 1 minute and less than the execution timeout (72 hours), got 72 hours',
    ],
    [{ submitDeadline: Duration.seconds(10) }, 'submit deadline must be at least 1 minute'],
    [{ lineRetryRounds: -1 }, 'lineRetryRounds must be a whole number from 0 to 10, got -1'],
    [{ expiredResubmitRounds: 1.5 }, 'expiredResubmitRounds must be a whole number from 0 to 10, got 1.5'],
    [{ pendingTimeout: Duration.hours(48) }, 'pendingTimeout must be at least 1 minute and under 48 hours'],
    [
      { batchPrices: { m: { inputPerMillion: -1, outputPerMillion: 0 } } },
      'batchPrices: m needs a numeric inputPerMillion (USD per million tokens at batch prices, not negative), got -1',
    ],
    [
      { maxRunCostUsd: 0 },
      'maxRunCostUsd must be a positive number of US dollars (leave it unset for no cap), got 0',
    ],
    [
      { maxRunCostUsd: -5 },
      'maxRunCostUsd must be a positive number of US dollars (leave it unset for no cap), got -5',
    ],
    [
      { maxRunCostUsd: Number.NaN },
      'maxRunCostUsd must be a positive number of US dollars (leave it unset for no cap), got NaN',
    ],
  ])('refuses job limits and prices %j', (props, message) => {
    expect(() => synthPipeline(props)).toThrow(message);
  });

  it.each([
    [{ inputPrefix: 'inputs' }, "input prefix must end with '/', got 'inputs'"],
    [{ inputPrefix: '/inputs/' }, "input prefix must not start with '/', got '/inputs/'"],
    [{ inputPrefix: 'in*puts/' }, "input prefix must not contain '*' or '\\', got 'in*puts/'"],
    [
      { inputPrefix: 'results/' },
      "input prefix must not overlap 'results/', where the pipeline writes, got 'results/'",
    ],
    [{ inputPrefix: 'results/inputs/' }, "input prefix must not overlap 'results/'"],
    [
      { inputPrefix: 'work/in/' },
      "input prefix must not overlap 'work/', where the pipeline writes, got 'work/in/'",
    ],
    [
      { generateModel: '' },
      "generate model must be a model name without spaces, such as 'gemini-3.8-flash', got ''",
    ],
    [
      { embedModel: 'gemini embedding' },
      "embed model must be a model name without spaces, such as 'gemini-3.8-flash', got 'gemini embedding'",
    ],
    [
      { pollSchedule: { initial: Duration.seconds(30), max: Duration.seconds(600), backoffRate: 0.5 } },
      'poll backoff rate must be a number of at least 1 (1 polls at a fixed rate), got 0.5',
    ],
    [
      { pollSchedule: { initial: Duration.seconds(700), max: Duration.seconds(600), backoffRate: 1.5 } },
      'initial poll wait (700 seconds) must not exceed the maximum poll wait (600 seconds)',
    ],
    [
      { pollSchedule: { initial: Duration.millis(1500), max: Duration.seconds(600), backoffRate: 1.5 } },
      'initial poll wait must be a whole number of seconds, at least 1, got 1 second 500 millis',
    ],
    [{ executionTimeout: Duration.days(400) }, 'execution timeout must be between 1 minute and 365 days'],
    [
      { workExpiration: Duration.hours(36) },
      'work expiration must be a whole number of days, at least 1, got 1 day 12 hours',
    ],
    [
      { workExpiration: Duration.days(2) },
      "work expiration (2 days) must be at least the execution timeout (3 days): a run's working state must outlive the run",
    ],
  ])('rejects %j', (props, message) => {
    expect(() => synthPipeline(props)).toThrow(message);
  });

  it('accepts a nested input prefix outside results/ and work/', () => {
    expect(() => synthPipeline({ inputPrefix: 'team-a/inputs/' })).not.toThrow();
  });
});
