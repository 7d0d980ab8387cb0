/**
 * Submit's upload throughput: one chunk streamed from the local S3 as Submit sends it, to a
 * Gemini-protocol receiver that discards and to the Gemini emulator, beside the legs it is made of,
 * measured in the same process. Submit's real legs are the read from S3 and the write to the network
 * (S3 → a discarding socket); its target is the slower of those, met by the upload to a receiver
 * as free as Google's machines are to Lambda. The emulator's SHA-256 and disk write are the
 * stand-in's cost, Google's in production: measured alone and reported, never counted as a leg.
 */
import { resultOf, runWorker } from './support/child.js';
import { type BenchRow, mib, mibPerSecond, percent, seconds } from './support/table.js';
import type { SubmitWorkerInput, SubmitWorkerResult } from './workers/submit-worker.js';

/** Gemini's chunks are up to 1 GiB; this size shows the rate without filling the bench's minutes. */
export const DEFAULT_SUBMIT_MIB = 128;
const REPEATS = 5;

export async function benchSubmit(chunkMib = DEFAULT_SUBMIT_MIB): Promise<BenchRow[]> {
  const input: SubmitWorkerInput = { mib: chunkMib, repeats: REPEATS };
  // Not pinned: S3, the emulator and the upload share the process as in npm start, not one core.
  const outcome = await runWorker<SubmitWorkerResult>('submit-worker', input, { pinCpu: false });
  const r = resultOf(outcome, 'submit upload');
  const rate = (ms: number) => mibPerSecond(r.bytes, ms);
  const ms = (value: number) => `${Math.round(value)} ms`;
  const chunk = `one ${mib(r.bytes)} chunk, best of ${REPEATS}`;
  return [
    {
      figure: `Submit upload, ${chunk}: local S3 → a discarding Gemini-protocol receiver`,
      value: `${rate(r.sinkUploadMs)} (${seconds(r.sinkUploadMs)}) = ${percent(r.socketMs / r.sinkUploadMs)} of its slowest real leg; while uploading: the client thread's heap and buffers +${mib(r.sinkUploadClientRiseBytes)}, process RSS +${mib(r.sinkUploadRssRiseBytes)} (servers included)`,
      reference: `real legs: S3 → socket ${rate(r.socketMs)} (client thread +${mib(r.socketClientRiseBytes)}, RSS +${mib(r.socketRssRiseBytes)}); S3 → local file ${rate(r.diskMs)}; CPU uploading vs S3 → socket: client thread ${ms(r.sinkUploadCpuMs)} vs ${ms(r.socketCpuMs)}, whole process ${ms(r.sinkUploadProcessCpuMs)} vs ${ms(r.socketProcessCpuMs)}`,
      target: '≥ 100% of the slowest real leg, memory bounded by stream buffers',
    },
    {
      figure: `Submit upload, ${chunk}: local S3 → Gemini emulator (own thread)`,
      value: `${rate(r.uploadMs)} (${seconds(r.uploadMs)}) = ${percent(Math.max(r.socketMs, r.emulatorReceiveMs) / r.uploadMs)} of the slower of S3 → socket and the emulator's receiving; while uploading: the client thread's heap and buffers +${mib(r.uploadClientRiseBytes)}, process RSS +${mib(r.uploadRssRiseBytes)} (servers included)`,
      reference: `the emulator's receiving alone (memory → SHA-256 + disk): ${rate(r.emulatorReceiveMs)}, RSS +${mib(r.emulatorReceiveRssRiseBytes)}; staged on disk, then the SDK's 8 MiB pieces (before): ${rate(r.stagedSdkMs)}`,
      target: 'none (the stand-in, not Submit)',
    },
  ];
}
