import type { BatchJobStatus } from '../gemini/gemini-batch-api.js';
import type { JobStatusRecord } from '../run/work-records.js';

/** What `poll-status.json` keeps of a job: its chunk and what Gemini said of it. Poll and Stop write it. */
export function toJobStatusRecord(
  chunk: number,
  { name, displayName: _displayName, ...status }: BatchJobStatus,
): JobStatusRecord {
  return { chunk, batchName: name, ...status };
}
