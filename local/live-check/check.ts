/**
 * The check itself, without a command line: runs a tiny batch of each kind against a Gemini
 * endpoint, records what it saw against every assumption, and deletes what it made, however it ends.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { GEMINI_API_URL, GEMINI_API_VERSION } from '../../lambdas/shared/gemini/gemini-api.js';
import { ASSUMPTIONS, type Assumption } from './assumptions.js';
import { type CleanupReport, cleanUp } from './cleanup.js';
import { CheckClient } from './client.js';
import { Findings, type Verdict } from './findings.js';
import { judgeQuota } from './judges.js';
import { type CheckModels, type CostEstimate, DEFAULT_MODELS, worstCaseCost } from './plan.js';
import type { Pacing } from './poll-probes.js';
import { CreatedResources, type ProbeContext } from './probe-context.js';
import { runProbes } from './run-probes.js';

/** How long the whole check may take before it gives up (and cleans up). */
export const DEFAULT_TIMEOUT_MS = 60 * 60 * 1000;

/** Real batches take minutes to hours: start at 5 s and stretch to a minute between polls. */
export const LIVE_PACING: Pacing = { firstPollMs: 5000, maxPollMs: 60_000, factor: 1.5, retryBaseMs: 2000 };

export interface LiveCheckOptions {
  /** Sent in `x-goog-api-key` only; never logged, never in the report. */
  readonly apiKey: string;
  /** @default GEMINI_API_URL */
  readonly baseUrl?: string;
  /** What the report calls the endpoint. @default - the base URL */
  readonly endpointLabel?: string;
  /** @default DEFAULT_MODELS */
  readonly models?: CheckModels;
  /** How long to wait for the jobs, from the start; jobs still running then are cancelled. @default 60 minutes */
  readonly timeoutMs?: number;
  /** @default LIVE_PACING */
  readonly pacing?: Pacing;
  /** Aborting stops the probes and goes straight to clean-up (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Progress, one line at a time. @default - silent */
  readonly log?: (line: string) => void;
}

export interface ReportRow extends Assumption {
  readonly verdict: Verdict;
  readonly evidence: string;
}

export interface LiveCheckReport {
  /** When the check started, ISO 8601. */
  readonly date: string;
  readonly sdkVersion: string;
  readonly apiVersion: string;
  /** The base URL without credentials or query. */
  readonly baseUrl: string;
  readonly endpoint: string;
  readonly models: CheckModels;
  readonly timeoutMinutes: number;
  readonly worstCaseCost: CostEstimate;
  readonly rows: readonly ReportRow[];
  readonly counts: Readonly<Record<Verdict, number>>;
  /** Why the probes did not all run, when they did not: a Ctrl-C, or an error they could not ride out. */
  readonly stoppedEarly?: { readonly reason: 'interrupted' | 'error'; readonly message: string };
  readonly cleanup: CleanupReport;
}

/** Thrown out of a wait when the check's signal aborts. */
export class CheckInterruptedError extends Error {
  constructor() {
    super('the check was interrupted');
    this.name = 'CheckInterruptedError';
  }
}

/** The installed `@google/genai` version: the report says which SDK saw what. */
export function sdkVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@google/genai');
  const root = entry.slice(0, entry.search(/[\\/]dist[\\/]/));
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/** A base URL fit to print: credentials and query (where a key could hide) are dropped. */
export function displayUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.username = '';
  url.password = '';
  url.search = '';
  return url.toString().replace(/\/+$/, '');
}

/** Every display name the check gives starts with this, so leftovers can be found by name. */
function displayPrefix(at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `live-check-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** Waits `ms`, or rejects at once when `signal` aborts. */
async function interruptible(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) throw new CheckInterruptedError();
  try {
    await delay(ms, undefined, { signal });
  } catch (error) {
    if (signal?.aborted) throw new CheckInterruptedError();
    throw error;
  }
}

/**
 * Runs the check and reports every assumption's verdict. It resolves even when the probes stop
 * early (an error, an abort): the report then says why, the rows not reached say "not seen", and
 * everything created has still been cleaned up.
 */
export async function runLiveCheck(options: LiveCheckOptions): Promise<LiveCheckReport> {
  const startedAt = new Date();
  const baseUrl = (options.baseUrl ?? GEMINI_API_URL).replace(/\/+$/, '');
  const models = options.models ?? DEFAULT_MODELS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const pacing = options.pacing ?? LIVE_PACING;
  const { signal, apiKey } = options;
  // Belt and braces: nothing the check prints should ever carry the key, even inside an echo.
  const redact = (text: string) => (apiKey.length >= 4 ? text.split(apiKey).join('***') : text);
  const log = (line: string) => options.log?.(redact(line));

  const findings = new Findings();
  const created = new CreatedResources(displayPrefix(startedAt));
  let cleaning = false;
  // Clean-up must finish whatever happens, so its waits ignore the abort that started it.
  const sleep = (ms: number) => (cleaning ? delay(ms) : interruptible(ms, signal));
  let quotaMet = false;
  const client = new CheckClient(
    { apiKey, baseUrl, apiVersion: GEMINI_API_VERSION },
    {
      onQuota: (refusal, call) => {
        quotaMet = true;
        log(`429 on ${call}; waiting before trying again`);
        findings.record('quota-shape', judgeQuota(refusal, call));
      },
      sleep,
      retryBaseMs: pacing.retryBaseMs,
    },
  );
  const dir = await mkdtemp(join(tmpdir(), 'gemini-live-check-'));
  const ctx: ProbeContext = { client, findings, created, dir, log };
  const checkpoint = () => {
    if (signal?.aborted) throw new CheckInterruptedError();
  };

  let stoppedEarly: LiveCheckReport['stoppedEarly'];
  try {
    checkpoint();
    await runProbes(ctx, { models, deadline: startedAt.getTime() + timeoutMs, pacing, sleep, checkpoint });
  } catch (error) {
    stoppedEarly =
      error instanceof CheckInterruptedError
        ? { reason: 'interrupted', message: 'the check was interrupted' }
        : { reason: 'error', message: `the check stopped on an error: ${redact((error as Error).message)}` };
    log(stoppedEarly.message);
  }
  cleaning = true;
  log('cleaning up');
  const cleanup = await cleanUp(ctx, pacing, sleep);
  await rm(dir, { recursive: true, force: true });
  if (!quotaMet) findings.notSeen('quota-shape', 'no 429 met');
  if (created.jobs.size === 0 && created.uploads.size === 0)
    findings.notSeen('delete', 'nothing was created');

  const rows = ASSUMPTIONS.map((assumption) => {
    const { verdict, evidence } = findings.result(assumption.id);
    return { ...assumption, verdict, evidence: redact(evidence) };
  });
  const count = (verdict: Verdict) => rows.filter((row) => row.verdict === verdict).length;
  return {
    date: startedAt.toISOString(),
    sdkVersion: sdkVersion(),
    apiVersion: GEMINI_API_VERSION,
    baseUrl: displayUrl(baseUrl),
    endpoint: options.endpointLabel ?? displayUrl(baseUrl),
    models,
    timeoutMinutes: Math.round((timeoutMs / 60_000) * 100) / 100,
    worstCaseCost: worstCaseCost(models),
    rows,
    counts: {
      confirmed: count('confirmed'),
      contradicted: count('contradicted'),
      'not seen': count('not seen'),
    },
    ...(stoppedEarly ? { stoppedEarly } : {}),
    cleanup: {
      deleted: cleanup.deleted,
      left: cleanup.left.map(({ name, reason }) => ({ name, reason: redact(reason) })),
    },
  };
}
