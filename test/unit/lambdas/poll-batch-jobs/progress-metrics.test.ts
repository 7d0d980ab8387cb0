import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { pollBatchJobs } from '../../../../lambdas/poll-batch-jobs/poll-batch-jobs.js';
import type { MetricDimensions, RunMetrics } from '../../../../lambdas/shared/run-metrics.js';
import { answerAll, FakeGemini } from '../../../support/fake-gemini.js';
import { MemoryObjectStore } from '../../../support/memory-object-store.js';
import { fixedNow, runState } from '../run-fixtures.js';
import { SCHEDULE, twoJobs } from './poll-fixtures.js';

describe('pollBatchJobs: metrics', () => {
  it("reports the requests Gemini counts done, in all, and the run's age, without dimensions", async () => {
    const store = new MemoryObjectStore();
    const fake = new FakeGemini();
    const [first] = await twoJobs(store, fake);
    fake.finish(first, { results: answerAll(fake.inputLines(first)).slice(0, 2) });
    const added: { name: string; value: number; dimensions?: MetricDimensions }[] = [];
    const metrics: RunMetrics = { add: (name, value, dimensions) => added.push({ name, value, dimensions }) };

    await pollBatchJobs(runState(), {
      store,
      gemini: fake,
      schedule: SCHEDULE,
      now: fixedNow,
      tmpDir: tmpdir(),
      metrics,
    });

    expect(added).toEqual([
      { name: 'RequestsCompleted', value: 2, dimensions: undefined },
      { name: 'RequestsTotal', value: 5, dimensions: undefined },
      // Uploaded 10:15:30, polled 12:00:00: 1 h 44 min 30 s.
      { name: 'RunAgeSeconds', value: 6270, dimensions: undefined },
    ]);
  });
});
