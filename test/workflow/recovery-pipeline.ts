/**
 * What the recovery suites (`recovery.test.ts`, `unrecorded-jobs.test.ts`) share: a pipeline whose
 * every Gemini call is counted from the emulator's request log, a mixed file of three chunks, and
 * the jobs the emulator holds under a run's display names.
 */
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { LocalPipeline } from '../../local/local-pipeline.js';
import { embedLine, generateLine } from '../support/request-lines.js';
import { oneShotTaskHooks, startTestPipeline } from '../support/test-pipeline.js';

/** An OpenAI-format chat line, sent through Gemini's OpenAI-compatible layer. */
export const chatLine = (id: string, content: string) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gemini-2.5-flash', messages: [{ role: 'user', content }] },
  });

/** One generate chunk (inline), one embedding chunk (a file), one OpenAI-format chunk (compat layer). */
export const MIXED = [
  generateLine('g1', 'first prompt'),
  generateLine('g2', 'second prompt'),
  embedLine('e1', 'the cat sat'),
  embedLine('e2', 'the dog ran'),
  chatLine('o1', 'Tell me a joke'),
  chatLine('o2', 'Name a river'),
];

/** Gemini calls by kind, from the emulator's request log (one `METHOD /path status time` line per call). */
function callCounts(requests: readonly string[]): Record<string, number> {
  const kinds: [string, RegExp][] = [
    ['models.get', /^GET \/v1beta\/models\/[^/]+ /],
    ['files.upload', /^POST \/upload\/v1beta\/files /],
    ['batches.create', /^POST \/v1beta\/models\/[^/]+:batchGenerateContent /],
    ['batches.createEmbeddings', /^POST \/v1beta\/models\/[^/]+:asyncBatchEmbedContent /],
    ['openai.batches.create', /^POST \/v1beta\/openai\/batches /],
    ['batches.list', /^GET \/v1beta\/batches /],
    ['openai.batches.list', /^GET \/v1beta\/openai\/batches /],
    ['batches.get', /^GET \/v1beta\/batches\/[a-z0-9-]+ /],
    ['batches.cancel', /^POST \/v1beta\/batches\/[a-z0-9-]+:cancel /],
    ['files.download', /^GET (\/download)?\/v1beta\/files\/[a-z0-9-]+:download /],
    ['files.delete', /^DELETE \/v1beta\/files\/[a-z0-9-]+ /],
  ];
  const counts: Record<string, number> = {};
  for (const line of requests) {
    const kind =
      kinds.find(([, pattern]) => pattern.test(line))?.[0] ?? line.split(' ').slice(0, 2).join(' ');
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/**
 * Starts the pipeline for the suite (once) and returns its helpers; faults and the request log are
 * cleared before each test. Input files are named `<name>-<n>.jsonl`.
 */
export function useRecoveryPipeline(name: string) {
  let started: LocalPipeline | undefined;
  /** Per-test hooks into a Task, set by a test and cleared after it runs once. */
  const { hooks: taskHooks, wrapTask } = oneShotTaskHooks();
  const requests: string[] = [];

  beforeAll(async () => {
    started = await startTestPipeline({
      emulator: {
        timing: { pendingMs: 50, runningMs: 150 },
        log: (line) => {
          requests.push(line);
        },
      },
      pollWaitMs: 20,
      wrapTask,
    });
  });

  afterAll(async () => {
    await started?.close();
  });

  beforeEach(() => {
    requests.length = 0;
    started?.emulator?.faults.clear();
  });

  const pipeline = (): LocalPipeline => {
    if (!started) throw new Error('the pipeline has not started');
    return started;
  };

  let uploads = 0;
  /** Uploads lines as a new input file and waits for the run it starts. */
  async function runLines(lines: readonly string[]) {
    const file = `${name}-${++uploads}`;
    const { delivery } = await pipeline().upload(
      `${pipeline().inputPrefix}${file}.jsonl`,
      `${lines.join('\n')}\n`,
    );
    expect(delivery.matched).toBe(true);
    const outcome = await pipeline().waitForRun(delivery.runId ?? '');
    const text = (await pipeline().readObject(`results/${file}/${outcome.runId}/results.jsonl`)) ?? '';
    const results = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { ...outcome, results, calls: callCounts(requests) };
  }

  async function readJson<T>(key: string): Promise<T> {
    const text = await pipeline().readObject(key);
    if (text === undefined) throw new Error(`no object ${key}`);
    return JSON.parse(text) as T;
  }

  const genai = () =>
    new GoogleGenAI({
      apiKey: pipeline().emulator?.apiKey ?? '',
      apiVersion: 'v1beta',
      httpOptions: { baseUrl: pipeline().emulator?.url ?? '' },
    });
  const compat = () =>
    new OpenAI({
      apiKey: pipeline().emulator?.apiKey ?? '',
      baseURL: `${pipeline().emulator?.url}/v1beta/openai/`,
      maxRetries: 0,
    });

  /** Every job on the emulator under each of the run's display names, native and compat, with its state. */
  async function jobsByDisplayName(runId: string): Promise<Map<string, { name: string; state: string }[]>> {
    const jobs = new Map<string, { name: string; state: string }[]>();
    const add = (displayName: string | undefined, jobName: string, state: string) => {
      if (!displayName?.startsWith(`${runId}/`)) return;
      jobs.set(displayName, [...(jobs.get(displayName) ?? []), { name: jobName, state }]);
    };
    for await (const job of await genai().batches.list({ config: { pageSize: 100 } })) {
      add(job.displayName, job.name ?? '', String(job.state));
    }
    for await (const batch of compat().batches.list({ limit: 100 })) {
      add(batch.metadata?.display_name, batch.id, batch.status);
    }
    return jobs;
  }

  return { pipeline, taskHooks, runLines, readJson, genai, compat, jobsByDisplayName };
}
