/**
 * Finding jobs by display name, newest first and back to a point in time: on Gemini's native
 * listing for Gemini-format chunks, on the OpenAI-compatible layer's for OpenAI-format ones.
 */
import { ApiError } from '@google/genai';
import type { BatchSearch, BatchSearchOptions, FoundBatch } from '../gemini-batch-api.js';
import type { GeminiRest, GenaiClients } from './clients.js';
import { listOpenAiBatches } from './openai-batches.js';

/** The SDK renames `BATCH_STATE_*` to `JOB_STATE_*`; the pipeline speaks REST's names. */
function restState(state: string | undefined): string {
  return state ? state.replace(/^JOB_STATE_/, 'BATCH_STATE_') : 'BATCH_STATE_UNSPECIFIED';
}

/**
 * OpenAI statuses as the compat layer reports them, in the pipeline's `BATCH_STATE_*` terms. Only
 * `in_progress` and `completed` have been seen live; the rest follow OpenAI's meanings.
 */
const OPENAI_STATES: Readonly<Record<string, string>> = {
  validating: 'BATCH_STATE_PENDING',
  in_progress: 'BATCH_STATE_RUNNING',
  finalizing: 'BATCH_STATE_RUNNING',
  completed: 'BATCH_STATE_SUCCEEDED',
  failed: 'BATCH_STATE_FAILED',
  expired: 'BATCH_STATE_EXPIRED',
  cancelling: 'BATCH_STATE_CANCELLED',
  cancelled: 'BATCH_STATE_CANCELLED',
};

/**
 * Reads the listing newest first, down to the first job created before `createdAfter`: Gemini's
 * native listing for Gemini-format chunks, the OpenAI-compatible layer's (matching
 * `metadata.display_name`) for OpenAI-format ones. A compat listing Gemini refuses with a 4xx
 * (Google does not document listing there) makes the search `incomplete`, not an error: the
 * caller decides, and records, what to do without it. 429 and 5xx are waits, as everywhere.
 */
export function findBatches(
  clients: GenaiClients,
  displayName: string,
  { format, createdAfter }: BatchSearchOptions,
): Promise<BatchSearch> {
  return format === 'openai'
    ? searchOpenAi(clients.rest, displayName, createdAfter)
    : searchNative(clients.ai, displayName, createdAfter);
}

async function searchNative(
  ai: GenaiClients['ai'],
  displayName: string,
  createdAfter: Date,
): Promise<BatchSearch> {
  const found: FoundBatch[] = [];
  for await (const job of await ai.batches.list({ config: { pageSize: 100 } })) {
    // NaN (no createTime) compares false: such a job never ends the search early.
    if (Date.parse(job.createTime ?? '') < createdAfter.getTime()) break;
    if (job.displayName === displayName && job.name) {
      found.push({ name: job.name, state: restState(job.state), createTime: job.createTime });
    }
  }
  return { found };
}

async function searchOpenAi(rest: GeminiRest, displayName: string, createdAfter: Date): Promise<BatchSearch> {
  const found: FoundBatch[] = [];
  try {
    for await (const batch of listOpenAiBatches(rest, 100)) {
      // `created_at` is whole seconds: the caller's margin covers the truncation.
      const created = typeof batch.created_at === 'number' ? batch.created_at * 1000 : Number.NaN;
      if (created < createdAfter.getTime()) break;
      if (batch.metadata?.display_name === displayName && batch.id) {
        found.push({
          name: batch.id,
          state: OPENAI_STATES[batch.status ?? ''] ?? 'BATCH_STATE_UNSPECIFIED',
          createTime: Number.isFinite(created) ? new Date(created).toISOString() : undefined,
        });
      }
    }
  } catch (error) {
    if (error instanceof ApiError && error.status < 500 && error.status !== 429 && error.status !== 408) {
      return {
        found,
        incomplete: `Gemini refused to list batches on its OpenAI-compatible layer (HTTP ${error.status}), which Google does not document`,
      };
    }
    throw error;
  }
  return { found };
}
