/**
 * The three ways the adapter reaches Gemini: the `@google/genai` SDK, the `openai` client on
 * Gemini's OpenAI-compatible batch layer (for OpenAI-format chunks), and raw REST where the SDK
 * drops or renames fields the pipeline needs.
 */
import { ApiError, GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { GEMINI_API_URL, GEMINI_API_VERSION } from '../gemini-api.js';

export interface GenaiBatchApiOptions {
  readonly apiKey: string;
  /** The emulator's URL offline; Gemini's own otherwise. */
  readonly baseUrl?: string;
}

/** Raw REST calls under `<baseUrl>/v1beta/`, authenticated with the API key. */
export class GeminiRest {
  readonly #apiKey: string;
  readonly #baseUrl: string;

  constructor(apiKey: string, baseUrl: string) {
    this.#apiKey = apiKey;
    this.#baseUrl = baseUrl;
  }

  /** A raw REST call; Google's error answer becomes the SDK's ApiError, as the SDK would make it. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(`${this.#baseUrl}/${GEMINI_API_VERSION}/${path}`, {
      ...init,
      headers: { 'x-goog-api-key': this.#apiKey, 'content-type': 'application/json', ...init.headers },
    });
    if (!response.ok) throw new ApiError({ message: await response.text(), status: response.status });
    return response;
  }
}

export interface GenaiClients {
  readonly ai: GoogleGenAI;
  /** Gemini's OpenAI-compatible batch layer, for OpenAI-format chunks; files still go through `ai`. */
  readonly openai: OpenAI;
  readonly rest: GeminiRest;
}

/** Builds the clients once, all pointed at the same Gemini (or emulator). */
export function createClients({ apiKey, baseUrl }: GenaiBatchApiOptions): GenaiClients {
  const root = (baseUrl ?? GEMINI_API_URL).replace(/\/+$/, '');
  return {
    ai: new GoogleGenAI({
      apiKey,
      apiVersion: GEMINI_API_VERSION,
      httpOptions: baseUrl ? { baseUrl: root } : undefined,
    }),
    // Retries belong to the state machine, as for the Gemini SDK (which retries nothing by default).
    openai: new OpenAI({ apiKey, baseURL: `${root}/${GEMINI_API_VERSION}/openai/`, maxRetries: 0 }),
    rest: new GeminiRest(apiKey, root),
  };
}
