import { beforeEach, describe, expect, it } from 'vitest';
import { finalizeRun } from '../../../../lambdas/finalize-run/finalize-run.js';
import { INPUT_KEY, RESULTS_ROOT, RUN_ID, runState } from '../run-fixtures.js';
import {
  deps,
  MANIFEST_KEY,
  manifest,
  published,
  resetWorld,
  succeededRun,
  uri,
} from './finalize-fixture.js';

beforeEach(resetWorld);

describe('finalizeRun: the run-finished event', () => {
  it('publishes the run-finished event after manifest.json is written, with the status and URIs', async () => {
    await succeededRun({ failedCount: 1 });
    await finalizeRun(runState(), deps());
    expect(published).toHaveLength(1);
    const [{ detail, manifestWritten }] = published as [(typeof published)[number]];
    expect(manifestWritten).toBe(true);
    const written = await manifest();
    expect(detail).toEqual({
      runId: RUN_ID,
      status: 'COMPLETED_WITH_ERRORS',
      reason: written.reason,
      input: uri(INPUT_KEY),
      manifest: uri(MANIFEST_KEY),
      results: uri(`${RESULTS_ROOT}results.jsonl`),
      counts: written.counts,
    });
  });

  it('fails when the event cannot be published, after the manifest is written', async () => {
    await succeededRun();
    const publish = async () => {
      throw new Error('EventBridge refused the event');
    };
    await expect(finalizeRun(runState(), deps({ publish }))).rejects.toThrow('EventBridge refused the event');
    expect(await manifest()).toMatchObject({ status: 'SUCCEEDED' });
  });
});
