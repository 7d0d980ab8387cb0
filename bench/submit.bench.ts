/**
 * Submit's upload throughput: one chunk streamed from the local S3 to the Gemini emulator, as
 * Submit sends it, beside the legs it is made of, measured in the same process: S3 read into a
 * discarding socket, and S3 read into a local file (the emulator, as Gemini, stores what it takes).
 * The target is the slower of the two legs: the upload adds nothing of its own beyond them.
 */
import { resultOf, runWorker } from './support/child.js';
import { type BenchRow, mib, mibPerSecond, percent, seconds } from './support/table.js';
import type { SubmitWorkerInput, SubmitWorkerResult } from './workers/submit-worker.js';

/** Gemini's chunks are up to 1 GiB; this size shows the rate without filling the bench's minutes. */
export const DEFAULT_SUBMIT_MIB = 128;
const REPEATS = 3;

export async function benchSubmit(chunkMib = DEFAULT_SUBMIT_MIB): Promise<BenchRow[]> {
  const input: SubmitWorkerInput = { mib: chunkMib, repeats: REPEATS };
  // Not pinned: S3, the emulator and the upload share the process as in npm start, not one core.
  const outcome = await runWorker<SubmitWorkerResult>('submit-worker', input, { pinCpu: false });
  const { bytes, uploadMs, uploadRssRiseBytes, stagedSdkMs, socketMs, diskMs } = resultOf(
    outcome,
    'submit upload',
  );
  const slowestMs = Math.max(socketMs, diskMs);
  return [
    {
      figure: `Submit upload, one ${mib(bytes)} chunk, local S3 → Gemini emulator (best of ${REPEATS})`,
      value: `${mibPerSecond(bytes, uploadMs)} (${seconds(uploadMs)}) = ${percent(slowestMs / uploadMs)} of the slowest leg; process RSS +${mib(uploadRssRiseBytes)} while uploading, servers included`,
      reference: `legs: S3 → socket ${mibPerSecond(bytes, socketMs)}, S3 → local file ${mibPerSecond(bytes, diskMs)}; staged on disk, then the SDK's upload (before): ${mibPerSecond(bytes, stagedSdkMs)}`,
      target: '≥ 100% of the slowest leg, memory bounded by pieces',
    },
  ];
}
