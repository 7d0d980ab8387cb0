/**
 * Creating and cancelling batch jobs: a file job through the SDK (Gemini format) or the
 * OpenAI-compatible layer (OpenAI format), an inline job over raw REST.
 */

import type { GoogleGenAI } from '@google/genai';
import { GeminiUnavailableError } from '../../errors.js';
import {
  BATCH_METHODS,
  type CreateBatchRequest,
  type InlineRequest,
  OPENAI_ENDPOINTS,
} from '../gemini-batch-api.js';
import type { GeminiRest, GenaiClients } from './clients.js';
import { createOpenAiBatch } from './openai-batches.js';
import type { RawOperation } from './operation-read.js';
import { scanResponse } from './operation-scan.js';
import { isHttpStatus } from './pipeline-errors.js';

/** Creates the job; returns its name, `batches/…`. */
export async function createBatch({ ai, rest }: GenaiClients, request: CreateBatchRequest): Promise<string> {
  if ('inlineRequests' in request) return createInline(rest, request);
  const { kind, model, displayName, fileName } = request;
  if (request.format === 'openai') {
    // The compat layer takes no display name; metadata carries it so recovery can find the job.
    return createOpenAiBatch(rest, {
      input_file_id: fileName,
      endpoint: OPENAI_ENDPOINTS[kind],
      completion_window: '24h',
      metadata: { display_name: displayName },
    });
  }
  const job =
    kind === 'generate'
      ? await ai.batches.create({ model, src: fileName, config: { displayName } })
      : await ai.batches.createEmbeddings({ model, src: { fileName }, config: { displayName } });
  // The job exists but is not named: a wait, so that the next attempt finds it by display name
  // (`creating` stays set) instead of the chunk being taken for refused.
  if (!job.name) {
    throw new GeminiUnavailableError(`Gemini created batch ${displayName} but returned no name`);
  }
  return job.name;
}

/**
 * Inline batches go over raw REST: the SDK's InlinedRequest rebuilds each request from its own
 * types (and gives embedding requests no metadata), while the pipeline passes users' REST
 * requests through untouched. Every request, generate or embed, carries its key in `metadata`:
 * Collect ties an inline answer to a key by that echo only.
 */
async function createInline(
  rest: GeminiRest,
  request: CreateBatchRequest & { readonly inlineRequests: readonly InlineRequest[] },
): Promise<string> {
  const model = request.model.replace(/^models\//, '');
  const requests = request.inlineRequests.map(({ key, request: body }) => ({
    request: body,
    metadata: { key },
  }));
  const response = await rest.fetch(`models/${model}:${BATCH_METHODS[request.kind]}`, {
    method: 'POST',
    body: JSON.stringify({
      batch: { displayName: request.displayName, inputConfig: { requests: { requests } } },
    }),
  });
  // The created operation echoes no answers yet, but read it as any operation: streamed, bounded.
  return ((await scanResponse(response)).operation as RawOperation).name;
}

/** Asks Gemini to stop a job; a job that has already ended is not an error. */
export async function cancelBatch(ai: GoogleGenAI, name: string): Promise<void> {
  try {
    await ai.batches.cancel({ name });
  } catch (error) {
    // 400 FAILED_PRECONDITION: it ended meanwhile, which is all a cancel wants.
    if (!isHttpStatus(error, 400, 404)) throw error;
  }
}
