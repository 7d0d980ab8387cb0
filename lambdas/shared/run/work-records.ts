/**
 * The JSON records a run keeps in S3 under `work/<runId>/`: the plan (Prepare), one ledger per
 * chunk (Submit), the poll status (Poll) and the collect summary (Collect). They are how the
 * functions hand work to each other; the state machine only carries pointers (`state-payloads.ts`).
 * Their keys are in `bucket-layout.ts`, reading them is `read-work-records.ts`. A record written by
 * an earlier version must still read, so a field added later is optional.
 */
import type { BatchJobStatus, BatchKind, RequestFormat } from '../gemini/gemini-batch-api.js';

/** One group of requests sent as one Gemini job. */
export interface ChunkPlan {
  readonly index: number;
  readonly format: RequestFormat;
  readonly kind: BatchKind;
  /** Model id without `models/`. */
  readonly model: string;
  /** S3 key of the chunk's JSONL, one `{"key","request"}` line per request: what Gemini receives. */
  readonly key: string;
  /** S3 key of `[lineNumber, key]` pairs in chunk order. */
  readonly keysKey: string;
  readonly requestCount: number;
  readonly bytes: number;
  readonly estimatedTokens: number;
  /** Line number of the chunk's first request: chunks of one group follow each other in input order. */
  readonly firstLine: number;
  /**
   * Which attempt this chunk is: absent (0) for the chunks Prepare wrote; a chunk Poll wrote to send
   * requests again (transient line errors, an expired or stuck job) is one round past its source.
   */
  readonly round?: number;
  /** The chunk whose requests this one sends again (absent on Prepare's chunks). */
  readonly retryOf?: number;
  /** Why this chunk sends its requests again: lines that failed transiently, or a job that expired or stuck. */
  readonly retryReason?: 'LINE_ERRORS' | 'EXPIRED' | 'STUCK_PENDING';
  /**
   * How many times this chunk's requests have been resubmitted because a job expired or stuck,
   * counting this chunk: what bounds resubmission by `expiredResubmitRounds`.
   */
  readonly resubmits?: number;
}

/** `work/<runId>/plan.json`, written by Prepare Requests. */
export interface RunPlan {
  readonly runId: string;
  readonly bucket: string;
  readonly inputKey: string;
  /** Non-blank lines read from the input. */
  readonly lineCount: number;
  readonly acceptedCount: number;
  readonly rejectedCount: number;
  readonly chunks: readonly ChunkPlan[];
  readonly preparedAt: string;
  /**
   * The newest round whose ended jobs Poll has looked through for requests to send again (its retry
   * chunks, if any, are in `chunks`): absent until the first round has ended.
   */
  readonly retriedThrough?: number;
  /** What the run was expected to cost before any job existed, and its cap (absent in older plans). */
  readonly estimate?: RunCostEstimate;
}

/** One model's share of a {@link RunCostEstimate}. */
export interface ModelTokenEstimate {
  readonly requests: number;
  /** Prepare's conservative count (`token-estimate.ts`): the same one chunks are cut by. */
  readonly inputTokens: number;
  /** Output and thinking tokens: each request's output cap, or the assumption when it set none. */
  readonly outputTokens: number;
  /** Requests that set no output cap, counted at `outputTokensAssumed` each. */
  readonly assumedOutputRequests: number;
  /** Its cost at batch prices; absent when the table has no price for the model that day. */
  readonly usd?: number;
}

/**
 * What Prepare expected the run to cost at batch prices, from its token estimate and the same price
 * table Finalize uses, before any job was created: what the run's budget is checked against.
 */
export interface RunCostEstimate {
  /** USD, at the prices in force on `pricedAt`'s day; excludes `unpricedModels`. */
  readonly estimatedUsd: number;
  readonly byModel: Readonly<Record<string, ModelTokenEstimate>>;
  /** Output tokens counted for a generate request that sets no output cap. */
  readonly outputTokensAssumed: number;
  readonly pricedAt: string;
  /** Models the price table has no entry for that day: their cost is not in `estimatedUsd`. */
  readonly unpricedModels: readonly string[];
  /** The cap the run was held to, in USD; absent when it had none. */
  readonly maxUsd?: number;
  /** Where the cap came from: the upload's `gemini-max-cost-usd` metadata or the stack's `maxRunCostUsd`. */
  readonly capSource?: 'metadata' | 'stack';
  /** The estimate passed the cap (or could not be priced under one): no job was created. */
  readonly overBudget?: boolean;
}

/**
 * `work/<runId>/jobs/<chunk>.json`: what Submit has done for a chunk. Written after the upload and
 * again right after the job is created, so a retried Submit never uploads or creates twice.
 */
export interface JobLedger {
  readonly chunk: number;
  readonly displayName: string;
  readonly uploadedFile?: string;
  /**
   * Set just before an upload, cleared once its file is recorded: from then on Gemini may hold a
   * file the ledger does not name, and a retry looks for it by display name before uploading again.
   */
  readonly uploading?: boolean;
  /** The chunk was sent inline in the create call, not as a file. */
  readonly inline?: boolean;
  /** Estimated bytes of the chunk's inline answers, both copies, when it was considered for inline. */
  readonly answerBytesEstimate?: number;
  /** Set just before the create call: from then on a job may exist that the ledger does not name. */
  readonly creating?: boolean;
  /**
   * When `creating` was set, kept across attempts while no create's outcome is known: a job made by
   * any of them is no older than this, so recovery lists jobs back to here (less a margin), not further.
   */
  readonly creatingSince?: string;
  readonly batchName?: string;
  /** True when the job was found by display name after a crash, not created by this attempt. */
  readonly recovered?: boolean;
  /**
   * Gemini refused to create the chunk's job for a reason waiting cannot change (HTTP 4xx other
   * than 408 and 429): the chunk has no job and never will; its keys are answered with that error.
   * `code` is the HTTP status.
   */
  readonly createError?: { readonly code?: number; readonly message: string };
  /**
   * Other jobs recovery found under the chunk's display name besides `batchName` (made by a retry
   * after a create whose answer was lost), each asked to cancel. Their answers are never collected.
   */
  readonly duplicates?: readonly string[];
  /** Of `duplicates`, those Gemini would not cancel when asked (429, 5xx): Finalize asks again. */
  readonly duplicatesLeftRunning?: readonly string[];
  /**
   * Lookups by display name that found no job although an earlier create's outcome was unknown
   * (its answer lost to a 5xx or a timeout), each followed by a new create: if the lost call made a
   * job after all and the listing missed it, that job exists unrecorded. Recorded before the create.
   */
  readonly emptyLookups?: readonly EmptyLookup[];
  readonly updatedAt: string;
}

/**
 * Whether the chunk's job was created with its requests inline (answers in the operation) rather
 * than over an uploaded file: as the ledger says, or, for a ledger written before it said so, by
 * whether it names an upload (a file job always does; a chunk once uploaded stays a file).
 */
export function sentInline(ledger: Pick<JobLedger, 'inline' | 'uploadedFile'>): boolean {
  return ledger.inline ?? !ledger.uploadedFile;
}

/** One lookup that found no job before a chunk was created again (see {@link JobLedger.emptyLookups}). */
export interface EmptyLookup {
  readonly at: string;
  /** How far back it looked: jobs created before this were not listed. */
  readonly since: string;
  /** Why the lookup could not look everywhere, when it could not (a listing Gemini refused). */
  readonly incomplete?: string;
}

/**
 * How much further back than the ledger's `creatingSince` recovery lists jobs: 10 minutes. The
 * ledger is written before the create call, so a job that call made is newer than `creatingSince`
 * by the Lambda's clock; the margin covers the difference between that clock and Google's (both
 * NTP-synchronised, well within a second) and the whole seconds the OpenAI-compatible layer
 * reports, hundreds of times over, at the price of listing ten more minutes of the project's jobs.
 */
export const RECOVERY_MARGIN_MS = 10 * 60 * 1000;

/** How far back a search for a chunk's unrecorded job must look: its creating time, less the margin. */
export function recoverySearchSince(ledger: Pick<JobLedger, 'creatingSince' | 'updatedAt'>): Date {
  const from = Date.parse(ledger.creatingSince ?? ledger.updatedAt);
  return new Date(Number.isNaN(from) ? 0 : from - RECOVERY_MARGIN_MS);
}

/**
 * One job's latest state, as Poll Batch Jobs last saw it: what Gemini said of it (the port's
 * {@link BatchJobStatus}, its `name` kept as `batchName` and its display name left out), plus what
 * the run itself tracks of the job.
 */
export interface JobStatusRecord extends Omit<BatchJobStatus, 'name' | 'displayName'> {
  readonly chunk: number;
  readonly batchName: string;
  /** Whether the chunk went inline (answers in the operation) or as a file, from its ledger. */
  readonly inline?: boolean;
  /**
   * When Poll first saw this file job SUCCEEDED without a responses file: Gemini has reported the
   * state before naming the file, so the job is read again, until the file is named or the bound passes.
   */
  readonly responsesFileAwaitedSince?: string;
  /**
   * Set once the bound passed with no responses file named: the job counts as finished, and
   * Collect (after asking once more) answers its keys with an error saying so.
   */
  readonly responsesFileGivenUp?: boolean;
  /**
   * Why the last pass could not read the job (429, 5xx): the rest of the record is from the pass
   * before, or, for a job never read, a non-terminal placeholder.
   */
  readonly readError?: string;
  /** When Poll first saw this job PENDING: how long it has waited to start. */
  readonly pendingSince?: string;
  /**
   * Set when Poll asked Gemini to cancel the job because it stayed PENDING past the threshold: its
   * requests are resubmitted like an expired job's.
   */
  readonly cancelledAsStuck?: boolean;
}

/** `work/<runId>/poll-status.json`. */
export interface PollStatus {
  readonly polledAt: string;
  readonly jobs: readonly JobStatusRecord[];
  /**
   * Chunks Gemini still refused (429) when the submit deadline passed: the run goes on without
   * them, and their keys come back as errors instead of holding the run until it times out.
   */
  readonly abandonedChunks?: readonly number[];
  /**
   * Why the abandoned chunks got no job, for their keys' error lines: when absent, Gemini refused
   * them (429) until the submit deadline; a run that stopped early says why it stopped.
   */
  readonly abandonedReason?: string;
  /**
   * Chunks Gemini refused to create a job for, for good (their ledgers hold the error): done,
   * with no job, and never submitted again.
   */
  readonly refusedChunks?: readonly number[];
}

/**
 * Tokens used by one model, summed over its responses. The `longPrompt*` fields count again the part
 * of the totals that came from requests whose prompt exceeded {@link LONG_PROMPT_TOKENS}: models
 * with a long-context tier bill those requests at a higher rate.
 */
export interface ModelUsage {
  requestCount: number;
  promptTokens: number;
  /** Prompt tokens served from a context cache (`cachedContentTokenCount`), part of `promptTokens`. */
  cachedTokens: number;
  outputTokens: number;
  thoughtsTokens: number;
  totalTokens: number;
  longPromptRequests: number;
  longPromptTokens: number;
  longPromptCachedTokens: number;
  /** Output and thinking tokens of long-prompt requests. */
  longPromptOutputTokens: number;
}

/** Gemini's long-context threshold: prompts above it are billed at the long-prompt rates. */
export const LONG_PROMPT_TOKENS = 200_000;

export function emptyModelUsage(): ModelUsage {
  return {
    requestCount: 0,
    promptTokens: 0,
    cachedTokens: 0,
    outputTokens: 0,
    thoughtsTokens: 0,
    totalTokens: 0,
    longPromptRequests: 0,
    longPromptTokens: 0,
    longPromptCachedTokens: 0,
    longPromptOutputTokens: 0,
  };
}

/** `work/<runId>/collected.json`, written by Collect Results. */
export interface CollectSummary {
  readonly succeededCount: number;
  readonly failedCount: number;
  /** Accepted keys Gemini returned nothing for; each got an error line. */
  readonly missingCount: number;
  /**
   * Answers sharing their key with another answer: a repeat of the answer used, or every answer of
   * a key answered differently more than once (then none is used). All go to unmatched.jsonl.
   */
  readonly duplicateResultCount: number;
  /** Answers for keys this run never sent, or carrying no key: never written under a key. */
  readonly unknownResultCount: number;
  /**
   * Answers Gemini returned that did not land in results.jsonl (the duplicates and unknown ones
   * above), each kept in unmatched.jsonl as it came. Absent in summaries written before it existed.
   */
  readonly unmatchedCount?: number;
  readonly usageByModel: Readonly<Record<string, ModelUsage>>;
  readonly collectedAt: string;
}
