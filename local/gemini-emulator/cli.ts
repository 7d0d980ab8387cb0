/**
 * `npm run emulator -- --port 8089`: serves the Gemini emulator until Ctrl-C.
 * Run with `--help` for the options.
 */
import { parseArgs } from 'node:util';
import { startGeminiEmulator } from './emulator.js';
import type { Fault } from './faults.js';
import { DEFAULT_ENQUEUED_TOKEN_LIMITS, type RoughnessOptions } from './options.js';
import { ROUGH_GEMINI } from './presets.js';

const HELP = `Gemini emulator: Gemini's Files and Batch REST API, offline.

Usage: npm run emulator -- [options]

  --port N             port to listen on (default 8089; 0 picks a free one)
  --host H             interface to listen on (default 127.0.0.1)
  --api-key K          the only API key to accept; others get 400 API_KEY_INVALID
                       (default: any non-empty key, a missing one gets 403 PERMISSION_DENIED)
  --data-dir DIR       keep files and outputs here (default: a temporary directory)
  --pending-ms N       time a job spends PENDING (default 500)
  --running-ms N       time a job spends RUNNING (default 1500)
  --per-request-ms N   extra RUNNING time per request (default 0)
  --cancelling-ms N    time the OpenAI-compatible layer reports a cancelled job as 'cancelling' (default 1000)
  --openai-error-shape array|object
                       OpenAI-compatible layer errors as Google's list-wrapped error (default) or a bare object
  --max-enqueued-tokens N
                       enqueued-token limit for every model (default: Gemini's Tier 1 limits)
  --seed N             seed for rate-based faults and seeded orders (default 1)
  --fault JSON         a fault to inject, e.g. '{"kind":"http-error","endpoint":"batches.create","status":429,"times":2}'
                       (repeatable; see local/gemini-emulator/README.md)
  --roughness JSON     switch Gemini's quirks, e.g. '{"shuffleResultLines":false,"inlineMetadataDropRate":0.1}'
                       (see "How it is as rough as Gemini" in local/gemini-emulator/README.md)
  --rough              start from the ROUGH_GEMINI preset: every intermittent quirk on at a modest
                       seeded rate (--fault and --roughness add to it)
  --verbose            log every request
  --help               show this text`;

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`--${name} takes a number, got '${value}'`);
  return parsed;
}

function parseJson<T>(flag: string, json: string): T {
  try {
    return JSON.parse(json) as T;
  } catch {
    throw new Error(`--${flag} takes a JSON object, got '${json}'`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8089' },
      host: { type: 'string' },
      'api-key': { type: 'string' },
      'data-dir': { type: 'string' },
      'pending-ms': { type: 'string' },
      'running-ms': { type: 'string' },
      'per-request-ms': { type: 'string' },
      'cancelling-ms': { type: 'string' },
      'openai-error-shape': { type: 'string' },
      'max-enqueued-tokens': { type: 'string' },
      seed: { type: 'string' },
      fault: { type: 'string', multiple: true },
      roughness: { type: 'string' },
      rough: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const timing = {
    ...(values['pending-ms'] !== undefined ? { pendingMs: number('pending-ms', values['pending-ms']) } : {}),
    ...(values['running-ms'] !== undefined ? { runningMs: number('running-ms', values['running-ms']) } : {}),
    ...(values['per-request-ms'] !== undefined
      ? { perRequestMs: number('per-request-ms', values['per-request-ms']) }
      : {}),
    ...(values['cancelling-ms'] !== undefined
      ? { cancellingMs: number('cancelling-ms', values['cancelling-ms']) }
      : {}),
  };
  const errorShape = values['openai-error-shape'];
  if (errorShape !== undefined && errorShape !== 'array' && errorShape !== 'object') {
    throw new Error(`--openai-error-shape takes array or object, got '${errorShape}'`);
  }
  const maxEnqueuedTokens = number('max-enqueued-tokens', values['max-enqueued-tokens']);
  const limits =
    maxEnqueuedTokens === undefined
      ? {}
      : {
          defaultEnqueuedTokens: maxEnqueuedTokens,
          enqueuedTokensPerModel: Object.fromEntries(
            Object.keys(DEFAULT_ENQUEUED_TOKEN_LIMITS).map((model) => [model, maxEnqueuedTokens]),
          ),
        };
  const preset = values.rough ? ROUGH_GEMINI : {};
  const roughness: RoughnessOptions = {
    ...preset.roughness,
    ...(values.roughness !== undefined ? parseJson<RoughnessOptions>('roughness', values.roughness) : {}),
  };
  const emulator = await startGeminiEmulator({
    port: number('port', values.port) ?? 8089,
    host: values.host,
    apiKey: values['api-key'],
    dataDir: values['data-dir'],
    seed: number('seed', values.seed),
    timing,
    limits,
    openai: { errorShape },
    roughness,
    faults: [
      ...(preset.faults ?? []),
      ...(values.fault ?? []).map((json) => parseJson<Fault>('fault', json)),
    ],
    log: values.verbose ? (line: string) => console.log(line) : undefined,
  });
  console.log(`Gemini emulator listening on ${emulator.url}`);
  const keyNote = values['api-key'] !== undefined ? 'the only key accepted' : 'any non-empty key works';
  console.log(`  API key: ${emulator.apiKey}   (${keyNote}; every output is emulated, not a real model's)`);
  if (values.rough)
    console.log('  Rough:   the ROUGH_GEMINI preset is on (intermittent quirks at seeded rates)');
  console.log(
    `  SDK:     new GoogleGenAI({ apiKey: '${emulator.apiKey}', httpOptions: { baseUrl: '${emulator.url}' } })`,
  );
  console.log(
    `  OpenAI:  new OpenAI({ apiKey: '${emulator.apiKey}', baseURL: '${emulator.url}/v1beta/openai/' })   (batches only)`,
  );
  const shutdown = () => {
    void emulator.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(`gemini emulator: ${(error as Error).message}`);
  process.exit(1);
});
