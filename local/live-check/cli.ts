/**
 * `GEMINI_API_KEY=… npm run check:live`: checks the protocol assumptions the pipeline relies on
 * against real Gemini (or any Gemini-protocol endpoint) with a tiny batch of each kind, and prints
 * the verdicts as a Markdown table for a bug report. `--emulator` runs it against the local
 * emulator instead, with no key and no cost; that is what CI runs.
 */
import { parseArgs } from 'node:util';
import { GEMINI_API_URL } from '../../lambdas/shared/gemini/gemini-api.js';
import type { GeminiEmulator } from '../gemini-emulator/index.js';
import { DEFAULT_TIMEOUT_MS, type LiveCheckOptions, runLiveCheck } from './check.js';
import { EMULATOR_PACING, startCheckEmulator } from './emulator.js';
import { DEFAULT_MODELS, worstCaseCost } from './plan.js';
import { describeCost, renderJson, renderMarkdown } from './report.js';

const HELP = `Checks, against real Gemini, the protocol assumptions the pipeline relies on.

Usage:
  GEMINI_API_KEY=… npm run check:live [-- options]

It uploads two tiny JSONL files, runs four tiny batch jobs (generate and embed, from a file and
inline) plus two one-request probes, waits for them, prints for each assumption whether it was
confirmed, contradicted or not seen, and deletes everything it created, also on Ctrl-C and on
errors. It prints its worst-case cost (well under a cent) before it starts.

Options:
  --gemini-url URL       any Gemini-protocol endpoint (default ${GEMINI_API_URL})
  --generate-model ID    model for the generate jobs (default ${DEFAULT_MODELS.generate})
  --embed-model ID       model for the embedding jobs (default ${DEFAULT_MODELS.embed};
                         gemini-embedding-2 reports usage differently)
  --timeout DURATION     how long to wait for the jobs: 90s, 20m, 2h, or minutes (default 60m);
                         jobs still running then are cancelled and their rows say "not seen"
  --emulator             run against an in-process Gemini emulator: no key, no cost (what CI runs)
  --json                 print the report as JSON instead of Markdown
  --help                 show this text

The report goes to stdout, progress to stderr. The key is read from GEMINI_API_KEY only, sent in
the x-goog-api-key header only, and never printed.

Exit status: 0 when the check ran to the end and cleaned up (whatever it found), 1 when it could
not run, stopped on an error or left something on Gemini, 130 when interrupted.`;

/** `90s`, `20m`, `2h`, or a bare number of minutes. */
function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|min|h)?$/.exec(text.trim());
  if (!match) throw new Error(`--timeout takes a duration such as 90s, 20m or 2h, got '${text}'`);
  const unit = match[2] ?? 'm';
  const factor = unit === 's' ? 1000 : unit === 'h' ? 3_600_000 : 60_000;
  return Number(match[1]) * factor;
}

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const stamp = () => new Date().toISOString().slice(11, 19);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'gemini-url': { type: 'string' },
      'generate-model': { type: 'string', default: DEFAULT_MODELS.generate },
      'embed-model': { type: 'string', default: DEFAULT_MODELS.embed },
      timeout: { type: 'string' },
      emulator: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.emulator && values['gemini-url'] !== undefined) {
    throw new UsageError('give --emulator or --gemini-url, not both');
  }
  const models = { generate: values['generate-model'], embed: values['embed-model'] };
  const timeoutMs = values.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(values.timeout);
  const apiKey = values.emulator ? undefined : process.env.GEMINI_API_KEY?.trim();
  if (!values.emulator && !apiKey) {
    // Never anything else in its place: a check that quietly ran on the emulator would confirm nothing.
    throw new UsageError(
      'GEMINI_API_KEY is not set. This check runs a tiny real batch with your key ' +
        '(worst case well under a cent); set GEMINI_API_KEY, or pass --emulator to run it offline.',
    );
  }
  const baseUrl = values['gemini-url'] ?? GEMINI_API_URL;
  if (!values.emulator) new URL(baseUrl); // a bad URL fails here, before anything is sent

  const log = (line: string) => console.error(`${stamp()}  ${line}`);
  const cost = describeCost(worstCaseCost(models));
  console.error(values.emulator ? `${cost}\n(against the emulator: nothing is billed)` : cost);

  let emulator: GeminiEmulator | undefined;
  const controller = new AbortController();
  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    // npm and tools/with-node24.mjs relay the terminal's Ctrl-C, so one press arrives two or three
    // times within milliseconds: only a press well after the first means "leave now".
    if (firstSignalAt !== undefined && now - firstSignalAt > 2000) {
      console.error(
        `${signal} again: leaving without clean-up; the batches/… and files/… logged above may remain`,
      );
      process.exit(130);
    }
    if (firstSignalAt === undefined) {
      firstSignalAt = now;
      console.error(
        `${signal}: stopping and cleaning up what the check created (press again to leave at once)`,
      );
      controller.abort();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let options: LiveCheckOptions;
    if (values.emulator) {
      emulator = await startCheckEmulator();
      options = {
        apiKey: emulator.apiKey,
        baseUrl: emulator.url,
        endpointLabel: `in-process Gemini emulator (${emulator.url})`,
        pacing: EMULATOR_PACING,
        models,
        timeoutMs,
      };
    } else {
      options = { apiKey: apiKey ?? '', baseUrl, models, timeoutMs };
    }
    const report = await runLiveCheck({ ...options, signal: controller.signal, log });
    process.stdout.write(values.json ? renderJson(report) : renderMarkdown(report));
    if (report.stoppedEarly?.reason === 'interrupted') return 130;
    return report.stoppedEarly !== undefined || report.cleanup.left.length > 0 ? 1 : 0;
  } finally {
    await emulator?.stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`check:live: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
