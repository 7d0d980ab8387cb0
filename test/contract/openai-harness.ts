/** The real `openai` SDK against the emulator's OpenAI-compatible layer, and the lines it sends. */
import OpenAI from 'openai';
import { downloadJsonl, type Harness, writeJsonl } from './emulator-harness.js';

export const PENDING_MS = 1000;
export const RUNNING_MS = 1000;
export const CANCELLING_MS = 1000;
/** Each stage of a job takes a second of emulator time. */
export const TIMING = { pendingMs: PENDING_MS, runningMs: RUNNING_MS, cancellingMs: CANCELLING_MS };
const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'expired']);

export type Batch = OpenAI.Batches.Batch;

/** An output line as Gemini's compatibility layer writes it (not OpenAI's BatchRequestOutput). */
export interface OutputLine {
  custom_id?: string;
  response: { status_code: number; body: Record<string, unknown> };
}

export interface ChatBody {
  id: string;
  object: string;
  created: unknown;
  model: string;
  choices: { message: { role: string; content: string }; finishReason: string }[];
  usage: { promptTokens: number; completionTokens: number; totalTokens: number };
}

export interface EmbeddingsBody {
  object: string;
  model: string;
  data: { object: string; embedding: number[]; index: number }[];
  usage: { promptTokens: number; totalTokens: number };
}

export interface ErrorBody {
  error: { code: number; message: string; status: string };
}

/** The real `openai` SDK pointed at the emulator's compatibility layer, as Google's docs configure it. */
export function openAi(h: Harness, options: ConstructorParameters<typeof OpenAI>[0] = {}): OpenAI {
  return new OpenAI({
    apiKey: h.emulator.apiKey,
    baseURL: `${h.emulator.url}/v1beta/openai/`,
    maxRetries: 0,
    ...options,
  });
}

export function chatLine(customId: string, text: string, body: Record<string, unknown> = {}): string {
  return JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: text }], ...body },
  });
}

export function embeddingsLine(customId: string, input: string | string[], dimensions = 8): string {
  return JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/v1/embeddings',
    body: { model: 'gemini-embedding-001', input, dimensions },
  });
}

/**
 * Uploads OpenAI-format lines through the native Files API, as Google's recipe does, but with
 * mimeType `application/json`: the recipe's bare `jsonl` is refused (python-genai #1547), and
 * "only application/json worked" (python-genai #1248).
 */
export async function uploadLines(h: Harness, name: string, lines: readonly string[]): Promise<string> {
  const path = await writeJsonl(h.dir, name, lines);
  const file = await h
    .sdk('v1beta')
    .files.upload({ file: path, config: { mimeType: 'application/json', displayName: name } });
  return file.name ?? '';
}

export async function createBatch(
  h: Harness,
  oai: OpenAI,
  lines: readonly string[],
  endpoint: '/v1/chat/completions' | '/v1/embeddings' = '/v1/chat/completions',
): Promise<Batch> {
  const inputFileId = await uploadLines(h, `input-${Math.random().toString(36).slice(2)}.jsonl`, lines);
  return oai.batches.create({ input_file_id: inputFileId, endpoint, completion_window: '24h' });
}

/** Polls with `retrieve` until the batch is terminal, moving the emulator clock between polls. */
export async function waitForBatch(h: Harness, oai: OpenAI, id: string, stepMs = 1000): Promise<Batch> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const batch = await oai.batches.retrieve(id);
    if (TERMINAL.has(batch.status)) return batch;
    h.emulator.clock.advance(stepMs);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`batch ${id} did not finish after 500 polls`);
}

export async function downloadOutput(h: Harness, batch: Batch): Promise<Map<string, OutputLine>> {
  const lines = (await downloadJsonl(
    h,
    h.sdk('v1beta'),
    batch.output_file_id ?? '',
  )) as unknown as OutputLine[];
  return new Map(lines.map((line) => [line.custom_id ?? '', line]));
}

/** The response body of the output line for `customId`; fails the test when there is no such line. */
export function bodyOf<T>(output: Map<string, OutputLine>, customId: string): T {
  const line = output.get(customId);
  if (!line) throw new Error(`no output line for custom_id ${JSON.stringify(customId)}`);
  return line.response.body as unknown as T;
}
