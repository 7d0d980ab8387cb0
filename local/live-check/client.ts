import { ApiError, GoogleGenAI } from '@google/genai';

/** Where the check sends its calls. The key goes into a header and nowhere else. */
export interface GeminiTarget {
  readonly apiKey: string;
  /** Without a trailing slash, e.g. `https://generativelanguage.googleapis.com`. */
  readonly baseUrl: string;
  readonly apiVersion: string;
}

/** An answer read over raw REST: the status, and the body parsed as JSON when it is JSON. */
export interface RestAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
}

/** An HTTP refusal, from raw REST or from the SDK's `ApiError` (whose message is the JSON body). */
export interface Refusal {
  readonly status: number;
  readonly body: unknown;
  /** Google's `error.message`, or the body text. */
  readonly message: string;
}

export interface ClientHooks {
  /** Called with every 429 met, before it is retried: the check reports its shape. */
  readonly onQuota: (refusal: Refusal, call: string) => void;
  /** Waits between retries; rejects when the check is interrupted. */
  readonly sleep: (ms: number) => Promise<void>;
  /** First wait after a 429 or a transient failure; doubled on each retry. */
  readonly retryBaseMs: number;
}

/** 429s met on one call before giving up: quota answers on a tiny batch are rare and brief. */
const QUOTA_RETRIES = 4;
/** 5xx and network failures retried on reads and deletes (never on creates, which are not idempotent). */
const TRANSIENT_RETRIES = 3;
/** A RetryInfo delay longer than this is not waited for. */
const MAX_RETRY_DELAY_MS = 60_000;

/** The HTTP refusal an SDK or REST failure carries, if it is one. */
export function refusalOf(error: unknown): Refusal | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const body = parseJson(error.message);
  return { status: error.status, body, message: googleMessage(body) ?? error.message };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `error.message` of Google's error body, if the body is one. */
export function googleMessage(body: unknown): string | undefined {
  const message = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
  return typeof message === 'string' ? message : undefined;
}

/** The wait Google asks for in a `google.rpc.RetryInfo` detail (`"retryDelay": "30s"`), if any. */
function retryDelayOf(body: unknown): number | undefined {
  const details = (body as { error?: { details?: unknown } } | undefined)?.error?.details;
  if (!Array.isArray(details)) return undefined;
  for (const detail of details) {
    const delay = (detail as { retryDelay?: unknown } | null)?.retryDelay;
    if (typeof delay === 'string' && /^\d+(\.\d+)?s$/.test(delay)) return Number.parseFloat(delay) * 1000;
  }
  return undefined;
}

const isTransient = (status: number) => status === 408 || status >= 500;

/** A refusal that says the service was busy, not what it makes of the request: 408, 429 and 5xx. */
export const isBusyStatus = (status: number): boolean => status === 429 || isTransient(status);

/**
 * The two ways the check talks to Gemini: the real `@google/genai` SDK where it can make the call,
 * and raw `fetch` where the SDK drops or rebuilds what is being checked (batchStats, inline request
 * bodies, `fields`). Both retry 429s (reporting each one's shape); reads also ride out 5xx.
 */
export class CheckClient {
  readonly ai: GoogleGenAI;
  readonly #target: GeminiTarget;
  readonly #hooks: ClientHooks;

  constructor(target: GeminiTarget, hooks: ClientHooks) {
    this.#target = target;
    this.#hooks = hooks;
    this.ai = new GoogleGenAI({
      apiKey: target.apiKey,
      apiVersion: target.apiVersion,
      httpOptions: { baseUrl: target.baseUrl },
    });
  }

  /** A raw REST call that answers with the status instead of throwing on it. */
  async rest(
    call: string,
    path: string,
    init: { method?: 'GET' | 'POST' | 'DELETE'; body?: unknown; query?: Record<string, string> } = {},
  ): Promise<RestAnswer> {
    const method = init.method ?? 'GET';
    const url = new URL(`${this.#target.baseUrl}/${this.#target.apiVersion}/${path}`);
    for (const [name, value] of Object.entries(init.query ?? {})) url.searchParams.set(name, value);
    return this.#retrying(call, method !== 'POST', async () => {
      const response = await fetch(url, {
        method,
        headers: { 'x-goog-api-key': this.#target.apiKey, 'content-type': 'application/json' },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
      const text = await response.text();
      const answer = { status: response.status, body: parseJson(text), text };
      if (response.status === 429 || isTransient(response.status)) {
        throw new RestRefusal({
          status: answer.status,
          body: answer.body,
          message: googleMessage(answer.body) ?? text,
        });
      }
      return answer;
    }).catch((error: unknown) => {
      // Retries used up: the refusal is the answer, as for any other status.
      if (error instanceof RestRefusal) {
        return { status: error.refusal.status, body: error.refusal.body, text: error.refusal.message };
      }
      throw error;
    });
  }

  /** An SDK call; `idempotent` calls (reads, deletes) are retried on 5xx and network failures too. */
  sdk<T>(call: string, idempotent: boolean, run: (ai: GoogleGenAI) => Promise<T>): Promise<T> {
    return this.#retrying(call, idempotent, () => run(this.ai));
  }

  async #retrying<T>(call: string, idempotent: boolean, run: () => Promise<T>): Promise<T> {
    let quotaRetries = 0;
    let transientRetries = 0;
    for (;;) {
      try {
        return await run();
      } catch (error) {
        const refusal = error instanceof RestRefusal ? error.refusal : refusalOf(error);
        if (refusal?.status === 429) {
          this.#hooks.onQuota(refusal, call);
          if (quotaRetries >= QUOTA_RETRIES) throw error;
          const asked = retryDelayOf(refusal.body);
          const backoff = this.#hooks.retryBaseMs * 2 ** quotaRetries++;
          await this.#hooks.sleep(Math.min(asked ?? backoff, MAX_RETRY_DELAY_MS));
          continue;
        }
        // The SDK reports a refused connection as TypeError("fetch failed"), never retried by itself.
        const transient = refusal ? isTransient(refusal.status) : error instanceof TypeError;
        if (idempotent && transient && transientRetries < TRANSIENT_RETRIES) {
          await this.#hooks.sleep(this.#hooks.retryBaseMs * 2 ** transientRetries++);
          continue;
        }
        throw error;
      }
    }
  }
}

/** A REST answer that should be retried, carried as an error through the retry loop. */
class RestRefusal extends Error {
  readonly refusal: Refusal;

  constructor(refusal: Refusal) {
    super(`HTTP ${refusal.status}: ${refusal.message}`);
    this.name = 'RestRefusal';
    this.refusal = refusal;
  }
}
