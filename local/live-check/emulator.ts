import {
  type GeminiEmulator,
  type GeminiEmulatorOptions,
  startGeminiEmulator,
} from '../gemini-emulator/index.js';
import type { Pacing } from './poll-probes.js';

/** The emulator's jobs end in well under a second: poll it often. */
export const EMULATOR_PACING: Pacing = { firstPollMs: 100, maxPollMs: 1000, factor: 1.5, retryBaseMs: 50 };

/**
 * How `--emulator` (and the tests) start the emulator: jobs that take a moment, as Gemini's take
 * minutes, and the job the check cancels held in PENDING, so the cancel always meets a job that has
 * not ended yet (on Gemini, a new job waits far longer than the check takes to cancel it).
 */
export function checkEmulatorOptions(extra: GeminiEmulatorOptions = {}): GeminiEmulatorOptions {
  return {
    ...extra,
    timing: { pendingMs: 200, runningMs: 300, ...extra.timing },
    faults: [
      { kind: 'job-outcome', outcome: 'STUCK_PENDING', displayName: '-cancel' },
      ...(extra.faults ?? []),
    ],
  };
}

/** An in-process emulator set up for the check. */
export function startCheckEmulator(extra: GeminiEmulatorOptions = {}): Promise<GeminiEmulator> {
  return startGeminiEmulator(checkEmulatorOptions(extra));
}
