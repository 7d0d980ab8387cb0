import type { JobLimits } from './gemini-batch-pipeline-props.js';

/** The job limits that were set, in the units the functions read; a limit left unset stays unset. */
export interface JobLimitValues {
  readonly maxChunkBytes?: number;
  readonly maxChunkRequests?: number;
  readonly maxTokensPerJob?: number;
  readonly inlineMaxBytes?: number;
  readonly inlineMaxAnswerBytes?: number;
  readonly inlineEmbeddings?: boolean;
}

const GEMINI_MAX_FILE_BYTES = 2 * 1000 ** 3;
const GEMINI_MAX_REQUEST_BYTES = 20 * 1000 ** 2;

/** The `jobLimits` prop checked against Gemini's own limits, in the units the functions read. */
export function validatedJobLimits(limits: JobLimits): JobLimitValues {
  const maxChunkBytes = limits.maxFileSize?.toBytes();
  if (maxChunkBytes !== undefined && !(maxChunkBytes > 0 && maxChunkBytes <= GEMINI_MAX_FILE_BYTES)) {
    throw new Error(
      `job limit maxFileSize must be more than 0 and at most 2 GB (Gemini's file limit), got ${maxChunkBytes} bytes`,
    );
  }
  for (const [name, value] of [
    ['maxRequests', limits.maxRequests],
    ['maxTokens', limits.maxTokens],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value > 0))
      throw new Error(`job limit ${name} must be a positive whole number, got ${value}`);
  }
  const inlineMaxBytes = limits.inlineThreshold?.toBytes();
  if (inlineMaxBytes !== undefined && !(inlineMaxBytes >= 0 && inlineMaxBytes < GEMINI_MAX_REQUEST_BYTES)) {
    throw new Error(
      `job limit inlineThreshold must be under 20 MB (Gemini refuses larger create requests), got ${inlineMaxBytes} bytes; use 0 to never send inline`,
    );
  }
  const inlineMaxAnswerBytes = limits.inlineAnswerThreshold?.toBytes();
  if (
    inlineMaxAnswerBytes !== undefined &&
    !(Number.isInteger(inlineMaxAnswerBytes) && inlineMaxAnswerBytes >= 0)
  ) {
    throw new Error(
      `job limit inlineAnswerThreshold must be a whole number of bytes, got ${inlineMaxAnswerBytes}`,
    );
  }
  return {
    maxChunkBytes,
    maxChunkRequests: limits.maxRequests,
    maxTokensPerJob: limits.maxTokens,
    inlineMaxBytes,
    inlineMaxAnswerBytes,
    inlineEmbeddings: limits.inlineEmbeddings,
  };
}
