/**
 * The two ways the adapter reaches Gemini: the `@google/genai` SDK, and raw REST where the SDK
 * drops or renames fields the pipeline needs, and on Gemini's OpenAI-compatible batch layer (for
 * OpenAI-format chunks: two calls, `openai-batches.ts`, not worth the 160 kB the `openai` SDK
 * added to every bundle).
 */
import { ApiError, GoogleGenAI } from '@google/genai';
import { GEMINI_API_URL, GEMINI_API_VERSION } from '../gemini-api.js';
import { postStreamed } from './streamed-post.js';

export interface GenaiBatchApiOptions {
  readonly apiKey: string;
  /** The emulator's URL offline; Gemini's own otherwise. */
  readonly baseUrl?: string;
}

/**
 * Raw REST calls under `<baseUrl>/v1beta/`, authenticated with the API key: in `x-goog-api-key`
 * natively, as the Bearer token on the OpenAI-compatible layer (as the `openai` SDK sends it).
 */
export class GeminiRest {
  readonly #apiKey: string;
  readonly #baseUrl: string;

  constructor(apiKey: string, baseUrl: string) {
    this.#apiKey = apiKey;
    this.#baseUrl = baseUrl;
  }

  /** A raw REST call; Google's error answer becomes the SDK's ApiError, as the SDK would make it. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return this.#send(`${GEMINI_API_VERSION}/${path}`, init, { 'x-goog-api-key': this.#apiKey });
  }

  /**
   * A call on the OpenAI-compatible layer, `<baseUrl>/v1beta/openai/<path>`; its error answers
   * (often a JSON array there) become an ApiError with Gemini's status and words, as native ones do.
   */
  fetchOpenAi(path: string, init: RequestInit = {}): Promise<Response> {
    return this.#send(`${GEMINI_API_VERSION}/openai/${path}`, init, {
      authorization: `Bearer ${this.#apiKey}`,
      accept: 'application/json',
    });
  }

  async #send(path: string, init: RequestInit, auth: Readonly<Record<string, string>>): Promise<Response> {
    const response = await fetch(`${this.#baseUrl}/${path}`, {
      ...init,
      headers: { ...auth, 'content-type': 'application/json', ...init.headers },
    });
    if (!response.ok) throw new ApiError({ message: await response.text(), status: response.status });
    return response;
  }

  /**
   * Starts a resumable upload as the SDK does (`fetchUploadUrl`): Gemini's answer, whose
   * `x-goog-upload-url` header is where the bytes go.
   */
  async startUpload(file: { displayName: string; mimeType: string; bytes: number }): Promise<Response> {
    const response = await this.#send(
      `upload/${GEMINI_API_VERSION}/files`,
      {
        method: 'POST',
        headers: {
          'x-goog-upload-protocol': 'resumable',
          'x-goog-upload-command': 'start',
          'x-goog-upload-header-content-length': String(file.bytes),
          'x-goog-upload-header-content-type': file.mimeType,
        },
        body: JSON.stringify({ file: { displayName: file.displayName, mimeType: file.mimeType } }),
      },
      { 'x-goog-api-key': this.#apiKey },
    );
    await response.arrayBuffer();
    return response;
  }

  /**
   * A request to the URL Gemini gave for a resumable upload (`X-Goog-Upload-Command`: `query`, or
   * `upload, finalize` with a body), sent on this client's host as the SDK does, so that a proxy or
   * the emulator in front keeps receiving it. A body goes out as it is read ({@link postStreamed}),
   * declared by `Content-Length`: Node refuses to send more or fewer bytes than that.
   */
  async toUpload(
    uploadUrl: string,
    command: { headers: Record<string, string>; body?: { bytes: number; parts: AsyncIterable<Uint8Array> } },
  ): Promise<Response> {
    const target = new URL(uploadUrl);
    const base = new URL(this.#baseUrl);
    target.protocol = base.protocol;
    target.host = base.host;
    const { body } = command;
    const response = await postStreamed(
      target,
      { 'x-goog-api-key': this.#apiKey, ...command.headers, 'content-length': body?.bytes ?? 0 },
      body?.parts,
    );
    if (!response.ok) throw new ApiError({ message: await response.text(), status: response.status });
    return response;
  }
}

export interface GenaiClients {
  readonly ai: GoogleGenAI;
  /** Native REST, and Gemini's OpenAI-compatible batch layer for OpenAI-format chunks. */
  readonly rest: GeminiRest;
}

/** Builds the clients once, all pointed at the same Gemini (or emulator). */
export function createClients({ apiKey, baseUrl }: GenaiBatchApiOptions): GenaiClients {
  const root = (baseUrl ?? GEMINI_API_URL).replace(/\/+$/, '');
  return {
    // No `retryOptions`: retries belong to the state machine (and the bundles stub out p-retry,
    // which only they would call). An API key always: the bundles stub out google-auth-library.
    ai: new GoogleGenAI({
      apiKey,
      apiVersion: GEMINI_API_VERSION,
      httpOptions: baseUrl ? { baseUrl: root } : undefined,
    }),
    rest: new GeminiRest(apiKey, root),
  };
}
