/**
 * The two calls the pipeline makes on Gemini's OpenAI-compatible batch layer (docs/gemini-protocol.md),
 * over plain REST and on the wire as the `openai` SDK 6.x sent them: `POST batches` with a JSON
 * body, and the cursor listing `GET batches?limit&after` that recovery searches, both with the key
 * as a Bearer token. Two small requests were not worth the SDK's 160 kB in every bundle; its errors
 * were classified by HTTP status only, which `GeminiRest`'s ApiError keeps.
 */
import { GeminiUnavailableError } from '../../errors.js';
import type { GeminiRest } from './clients.js';

/** The fields of OpenAI's Batch object the pipeline reads; Gemini is not known to send the rest. */
export interface OpenAiBatch {
  readonly id?: string;
  readonly status?: string;
  /** Unix seconds. */
  readonly created_at?: number;
  readonly metadata?: Readonly<Record<string, string>> | null;
}

/** What `POST /batches` takes (OpenAI's `BatchCreateParams`, the fields the pipeline sends). */
export interface OpenAiBatchCreate {
  readonly input_file_id: string;
  readonly endpoint: '/v1/chat/completions' | '/v1/embeddings';
  readonly completion_window: '24h';
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Creates the job; returns its id, `batches/…`. A created job whose answer names none is a wait
 * (as on the native layer), so that the next attempt finds it by its `metadata.display_name`.
 */
export async function createOpenAiBatch(rest: GeminiRest, body: OpenAiBatchCreate): Promise<string> {
  const response = await rest.fetchOpenAi('batches', { method: 'POST', body: JSON.stringify(body) });
  const batch = (await response.json()) as OpenAiBatch;
  if (typeof batch.id !== 'string' || batch.id === '') {
    throw new GeminiUnavailableError(
      `Gemini created OpenAI-format batch ${body.metadata.display_name} but returned no id`,
    );
  }
  return batch.id;
}

/**
 * Every batch of the listing, newest first, one page of `limit` at a time: the next page is asked
 * `after` the last id while `has_more` is not false, as OpenAI's cursor pages are read.
 */
export async function* listOpenAiBatches(rest: GeminiRest, limit: number): AsyncGenerator<OpenAiBatch> {
  let after: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ limit: String(limit), ...(after === undefined ? {} : { after }) });
    const page = (await (await rest.fetchOpenAi(`batches?${query}`)).json()) as {
      data?: readonly OpenAiBatch[];
      has_more?: boolean;
    };
    const batches = page.data ?? [];
    yield* batches;
    after = batches.at(-1)?.id;
    if (!page.has_more || !after) return;
  }
}
