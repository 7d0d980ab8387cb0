import { beforeEach, describe, expect, it } from 'vitest';
import { finalizeRun } from '../../../../lambdas/finalize-run/finalize-run.js';
import { priceTableWith } from '../../../../lambdas/shared/pricing/pricing.js';
import type { MetricDimensions, RunMetrics } from '../../../../lambdas/shared/run-metrics.js';
import type { MetricName } from '../../../../lambdas/shared/runtime/metric-names.js';
import { MODELS, runState } from '../run-fixtures.js';
import { deps, manifest, resetWorld, succeededRun } from './finalize-fixture.js';

/** Each value a core reported, in order. */
function recordingMetrics() {
  const added: { name: MetricName; value: number; dimensions?: MetricDimensions }[] = [];
  const metrics: RunMetrics = { add: (name, value, dimensions) => added.push({ name, value, dimensions }) };
  return { metrics, added };
}

beforeEach(resetWorld);

describe('finalizeRun: metrics', () => {
  it("reports the run and its requests by the run's status, tokens and cost by model", async () => {
    await succeededRun({ rejectedCount: 1, failedCount: 1 });
    const { metrics, added } = recordingMetrics();

    // A dollar a token, so the test's few tokens cost more than the estimate's rounding.
    const prices = priceTableWith(
      JSON.stringify({ [MODELS.generate]: { inputPerMillion: 1_000_000, outputPerMillion: 1_000_000 } }),
    );

    await finalizeRun(runState(), deps({ metrics, prices }));

    const { status, cost } = await manifest();
    expect(status).toBe('COMPLETED_WITH_ERRORS');
    const byStatus = { status: 'COMPLETED_WITH_ERRORS' };
    const generateCost = cost.byModel[MODELS.generate]?.total;
    expect(generateCost).toBe(45);
    expect(added).toEqual(
      expect.arrayContaining([
        { name: 'RunsFinished', value: 1, dimensions: byStatus },
        { name: 'RequestsSucceeded', value: 4, dimensions: byStatus },
        { name: 'RequestsFailed', value: 1, dimensions: byStatus },
        { name: 'RequestsRejected', value: 1, dimensions: byStatus },
        { name: 'InputTokens', value: 21, dimensions: { model: MODELS.generate } },
        // Thinking is billed as output: 15 output + 9 thoughts.
        { name: 'OutputTokens', value: 24, dimensions: { model: MODELS.generate } },
        { name: 'EstimatedCostUsd', value: generateCost, dimensions: { model: MODELS.generate } },
        { name: 'InputTokens', value: 6, dimensions: { model: MODELS.embed } },
        { name: 'OutputTokens', value: 0, dimensions: { model: MODELS.embed } },
      ]),
    );
    expect(added.filter((entry) => entry.name === 'RunsFinished')).toHaveLength(1);
  });

  it('reports nothing for a run whose manifest could not be written', async () => {
    await succeededRun();
    const { metrics, added } = recordingMetrics();

    await expect(
      finalizeRun(
        runState(),
        deps({
          metrics,
          publish: async () => {
            throw new Error('EventBridge is down');
          },
        }),
      ),
    ).rejects.toThrow('EventBridge is down');

    // Step Functions retries Finalize: the retry reports the run, this attempt must not as well.
    expect(added).toEqual([]);
  });
});
