/** What the tests of the poll loop share: a schedule, and a run with two submitted chunks. */
import type { PollSchedule } from '../../../../lambdas/poll-batch-jobs/poll-batch-jobs.js';
import type { FakeGemini } from '../../../support/fake-gemini.js';
import type { MemoryObjectStore } from '../../../support/memory-object-store.js';
import { submitDirectly, writePlan } from '../run-fixtures.js';

/** Waits of 30, 45, 68, 101, 152, 228, 342, 513, then 600 s. */
export const SCHEDULE: PollSchedule = { initialSeconds: 30, maxSeconds: 600, backoffRate: 1.5 };

/** A run with two submitted chunks, generate then embed; returns their job names. */
export async function twoJobs(store: MemoryObjectStore, fake: FakeGemini): Promise<[string, string]> {
  const plan = await writePlan(store, [
    { kind: 'generate', keys: ['a', 'b', 'c'] },
    { kind: 'embed', keys: ['d', 'e'] },
  ]);
  const [first, second] = await submitDirectly(store, fake, plan);
  if (!first || !second) throw new Error('expected two jobs');
  return [first, second];
}
