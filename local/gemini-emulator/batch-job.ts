/** A batch job as the emulator keeps it: what it was created from, and what its processing produced. */
import type { InputScan, ProcessCounts } from './batch-processor.js';
import type { BatchKind } from './line-codec.js';
import type { EmbeddingUsage } from './model-catalogue.js';
import type { OpenAiBatchEndpoint } from './openai/lines.js';

export type BatchSource =
  | { readonly type: 'file'; readonly fileName: string }
  | { readonly type: 'inline'; readonly requests: readonly unknown[] };

/** What a job created through the OpenAI-compatible layer carries besides a native job's fields. */
export interface OpenAiBatchInfo {
  /** Every input line must target this endpoint; it also decides the job's kind. */
  readonly endpoint: OpenAiBatchEndpoint;
  readonly completionWindow: string;
  readonly metadata: Readonly<Record<string, string>> | null;
}

export type CreateBatch =
  | {
      readonly kind: BatchKind;
      /** Model id without the `models/` prefix. */
      readonly model: string;
      readonly displayName: string | undefined;
      readonly source: BatchSource;
      /** How the model's embedding answers report usage. @default 'tokenCount' */
      readonly embeddingUsage?: EmbeddingUsage;
      /**
       * A model Google retired: the job is accepted but never runs, and expires (python-genai #2439).
       * @default false
       */
      readonly retired?: boolean;
      readonly openai?: undefined;
    }
  | {
      /** OpenAI-format lines name their own models; the job takes the first line's. */
      readonly openai: OpenAiBatchInfo;
      readonly fileName: string;
    };

export type Processing =
  | { readonly done: false }
  | {
      readonly done: true;
      /** Emulator time when the answers were ready: a job cannot finish before its work is done. */
      readonly atMs: number;
      readonly counts?: ProcessCounts;
      readonly outputPath?: string;
      readonly outputSha256?: string;
      readonly inlineResponses?: readonly unknown[];
      readonly error?: string;
    };

export interface BatchJob {
  readonly name: string;
  readonly kind: BatchKind;
  /** Model id without `models/`; for an OpenAI-format job the first readable line's, or '' if none. */
  readonly model: string;
  /** Set on jobs created through the OpenAI-compatible layer, whose input lines are in OpenAI's format. */
  readonly openai: OpenAiBatchInfo | undefined;
  readonly displayName: string | undefined;
  readonly source: BatchSource;
  readonly embeddingUsage: EmbeddingUsage;
  readonly createTimeMs: number;
  readonly scan: InputScan;
  /** When the job starts running; undefined for a job held in PENDING by a fault. */
  readonly runningAtMs: number | undefined;
  /** When the job's running time is up, on the emulator clock. */
  readonly doneAtMs: number;
  /** How the job ends when its time is up: normally SUCCEEDED, otherwise as a fault decided. */
  readonly plannedEnd: 'BATCH_STATE_SUCCEEDED' | 'BATCH_STATE_FAILED' | 'BATCH_STATE_EXPIRED';
  readonly failMessage: string | undefined;
  cancelledAtMs: number | undefined;
  processing: Processing;
  /** `files/batch-<id>` once the succeeded output has been published. */
  outputFile: string | undefined;
}
