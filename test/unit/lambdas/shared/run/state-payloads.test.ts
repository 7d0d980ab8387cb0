import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../../../../lambdas/shared/run/state-payloads.js';
import { lambdaFailure } from '../../finalize-run/finalize-fixture.js';

describe('describeFailure', () => {
  it("reads the message out of a Lambda error's Cause JSON", () => {
    expect(describeFailure(lambdaFailure('EmptyInputError', 'the file is empty'))).toBe(
      'EmptyInputError: the file is empty',
    );
  });

  it('keeps a plain-text Cause as it is', () => {
    expect(describeFailure({ Error: 'States.Timeout', Cause: 'Task timed out after 900 seconds' })).toBe(
      'States.Timeout: Task timed out after 900 seconds',
    );
  });

  it('keeps a JSON Cause without errorMessage as it is', () => {
    expect(describeFailure({ Error: 'States.Runtime', Cause: '{"detail":"x"}' })).toBe(
      'States.Runtime: {"detail":"x"}',
    );
  });

  it('gives just the error name when there is no Cause', () => {
    expect(describeFailure({ Error: 'States.TaskFailed' })).toBe('States.TaskFailed');
  });
});
