import { expect } from 'vitest';
import type { GeminiEmulator, GeminiEmulatorOptions } from '../../local/gemini-emulator/index.js';
import type { AssumptionId } from '../../local/live-check/assumptions.js';
import { type LiveCheckOptions, type LiveCheckReport, runLiveCheck } from '../../local/live-check/check.js';
import { EMULATOR_PACING, startCheckEmulator } from '../../local/live-check/emulator.js';
import type { Verdict } from '../../local/live-check/findings.js';

/** The row of `id`, which every report has. */
export function row(report: LiveCheckReport, id: AssumptionId) {
  const found = report.rows.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`the report has no row ${id}`);
  return found;
}

/** `{id: verdict}` for every row, so a failing assertion shows the whole table at once. */
export function verdicts(report: LiveCheckReport): Record<string, Verdict> {
  return Object.fromEntries(report.rows.map((r) => [r.id, r.verdict]));
}

/** What the emulator still holds: a clean-up that worked leaves both lists empty. */
export async function leftOn(emulator: GeminiEmulator): Promise<{ batches: string[]; files: string[] }> {
  const get = async (path: string) => {
    const response = await fetch(`${emulator.url}/v1beta/${path}?pageSize=1000`, {
      headers: { 'x-goog-api-key': emulator.apiKey },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { operations?: { name: string }[]; files?: { name: string }[] };
  };
  const batches = (await get('batches')).operations ?? [];
  const files = (await get('files')).files ?? [];
  return { batches: batches.map((b) => b.name), files: files.map((f) => f.name) };
}

/**
 * Starts an emulator set up as `--emulator` sets it up (plus `options`), runs the check's core
 * against it, and stops it after reading what it still holds.
 */
export async function checkAgainstEmulator(
  options: GeminiEmulatorOptions = {},
  check: Partial<LiveCheckOptions> = {},
  prepare: (emulator: GeminiEmulator) => void = () => {},
): Promise<{ report: LiveCheckReport; left: { batches: string[]; files: string[] }; log: string[] }> {
  const emulator = await startCheckEmulator(options);
  const log: string[] = [];
  try {
    prepare(emulator);
    const report = await runLiveCheck({
      apiKey: emulator.apiKey,
      baseUrl: emulator.url,
      pacing: EMULATOR_PACING,
      log: (line) => log.push(line),
      ...check,
    });
    return { report, left: await leftOn(emulator), log };
  } finally {
    await emulator.stop();
  }
}
