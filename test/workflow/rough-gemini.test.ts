/**
 * The pipeline against a Gemini as rough as the real one (the emulator's ROUGH_GEMINI preset): inline
 * answers reordered and some without their key, result files out of order, generic 429s on any
 * call, uploads answered without their file or left unfinalized, `application/jsonl` refused now
 * and then. Whatever happens, a key never receives another key's answer, and every answer Gemini
 * produced is kept: under its key in results.jsonl, or in unmatched.jsonl when Gemini did not say
 * whose it is. Answers are checked by content: the emulator's answers are a function of the prompt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedContent } from '../../local/gemini-emulator/model/index.js';
import { ROUGH_GEMINI } from '../../local/gemini-emulator/presets.js';
import type { LocalPipeline } from '../../local/local-pipeline.js';
import { startTestPipeline } from '../support/test-pipeline.js';

const DIMENSIONS = 8;
const KEYS = Array.from({ length: 24 }, (_, index) => `k${String(index).padStart(2, '0')}`);
const promptOf = (key: string) => `question ${key} end`;
const embeddingOf = (key: string) =>
  embedContent({ content: { parts: [{ text: promptOf(key) }] }, outputDimensionality: DIMENSIONS }).embedding
    .values;

type Json = Record<string, unknown>;

/** Whether `answer` (a Gemini response, in whatever envelope) is the answer to `key`'s request. */
type AnswerCheck = (answer: unknown, key: string) => boolean;

const generateAnswers: AnswerCheck = (answer, key) => JSON.stringify(answer).includes(promptOf(key));
const embedAnswers: AnswerCheck = (answer, key) => {
  const values = (answer as { embedding?: { values?: unknown } } | undefined)?.embedding?.values;
  return JSON.stringify(values) === JSON.stringify(embeddingOf(key));
};

const FILES = {
  generate: KEYS.map((key) =>
    JSON.stringify({ key, request: { contents: [{ role: 'user', parts: [{ text: promptOf(key) }] }] } }),
  ),
  embed: KEYS.map((key) =>
    JSON.stringify({
      key,
      request: { content: { parts: [{ text: promptOf(key) }] }, outputDimensionality: DIMENSIONS },
    }),
  ),
} as const;

function parseLines(text: string | undefined): Json[] {
  return (text ?? '')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Json);
}

/** The Gemini response inside an unmatched.jsonl line, whether it came inline or from a file. */
function unmatchedResponse(line: Json): unknown {
  const answer = line.answer as Json | undefined;
  return answer?.response ?? answer;
}

/**
 * Uploads `lines`, waits for the run and checks the invariant: one results line per key, each
 * answer its own key's, and every key without its answer has that answer in unmatched.jsonl.
 */
async function runAndCheck(
  pipeline: LocalPipeline,
  name: string,
  lines: readonly string[],
  owns: AnswerCheck,
) {
  const { delivery } = await pipeline.upload(`${pipeline.inputPrefix}${name}.jsonl`, `${lines.join('\n')}\n`);
  const run = await pipeline.waitForRun(delivery.runId ?? '');
  const root = `results/${name}/${run.runId}/`;
  const results = parseLines(await pipeline.readObject(`${root}results.jsonl`));
  const unmatched = parseLines(await pipeline.readObject(`${root}unmatched.jsonl`));

  expect(results.map((line) => line.key)).toEqual(KEYS);
  const unanswered: string[] = [];
  for (const line of results) {
    const key = String(line.key);
    if (line.response !== undefined) {
      expect(owns(line.response, key), `${key} holds another key's answer`).toBe(true);
    } else {
      expect(line.error).toMatchObject({ status: 'NO_RESULT' });
      unanswered.push(key);
    }
  }
  // No answer Gemini produced is lost: each key without one has its answer among the unmatched.
  for (const key of unanswered) {
    expect(
      unmatched.some((line) => owns(unmatchedResponse(line), key)),
      `${key}'s answer is neither in results.jsonl nor in unmatched.jsonl`,
    ).toBe(true);
  }
  expect(run.manifest.counts.succeeded + unanswered.length).toBe(KEYS.length);
  return { run, results, unmatched, unanswered };
}

const roughOptions = (environment: Record<string, string>) => ({
  emulator: { ...ROUGH_GEMINI, seed: 7, timing: { pendingMs: 20, runningMs: 60 } },
  pollWaitMs: 10,
  // Several chunks per file, so a run meets many creates, reads and uploads.
  environment: { MAX_CHUNK_REQUESTS: '3', ...environment },
});

describe('against a rough Gemini', () => {
  let inline: LocalPipeline;
  let files: LocalPipeline;

  beforeAll(async () => {
    [inline, files] = await Promise.all([
      startTestPipeline(roughOptions({ INLINE_EMBEDDINGS: 'true' })),
      startTestPipeline(roughOptions({ INLINE_MAX_BYTES: '0' })),
    ]);
  });

  afterAll(async () => {
    await Promise.all([inline?.close(), files?.close()]);
  });

  it('keeps every inline generate answer under its own key, or in unmatched.jsonl when Gemini drops the key', async () => {
    const { run, unanswered, unmatched } = await runAndCheck(
      inline,
      'inline-generate',
      FILES.generate,
      generateAnswers,
    );
    expect(run.manifest.jobs.every((job) => job.inline === true)).toBe(true);
    // The preset drops a tenth of the echoed keys: the run must have met, and kept, some of those.
    expect(unanswered.length).toBeGreaterThan(0);
    expect(unmatched.filter((line) => line.reason === 'NO_KEY').length).toBeGreaterThanOrEqual(
      unanswered.length,
    );
  });

  it('never gives an inline embedding another key’s vector', async () => {
    const { run } = await runAndCheck(inline, 'inline-embed', FILES.embed, embedAnswers);
    expect(run.manifest.jobs.every((job) => job.inline === true)).toBe(true);
  });

  it.each([
    ['generate', generateAnswers],
    ['embed', embedAnswers],
  ] as const)('answers every key of a %s file job, out of order as Gemini writes it', async (kind, owns) => {
    const { run, unanswered } = await runAndCheck(files, `file-${kind}`, FILES[kind], owns);
    expect(run.manifest.jobs.every((job) => job.inline === false)).toBe(true);
    // File result lines always carry their key: nothing may be left unanswered.
    expect(unanswered).toEqual([]);
    expect(run.manifest.status).toBe('SUCCEEDED');
  });

  it('answers every line of an OpenAI-format file under its own custom_id', async () => {
    const lines = KEYS.map((key) =>
      JSON.stringify({
        custom_id: key,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: promptOf(key) }] },
      }),
    );
    const { delivery } = await files.upload(`${files.inputPrefix}openai.jsonl`, `${lines.join('\n')}\n`);
    const run = await files.waitForRun(delivery.runId ?? '');
    const results = parseLines(await files.readObject(`results/openai/${run.runId}/results.jsonl`));

    expect(results.map((line) => line.custom_id)).toEqual(KEYS);
    for (const line of results) expect(generateAnswers(line.response, String(line.custom_id))).toBe(true);
    expect(run.manifest.status).toBe('SUCCEEDED');
  });

  it('met the roughness it claims to survive: 429s, spoiled uploads and refused MIME types', () => {
    const fired = { ...inline.emulator?.faults.fired() };
    for (const [name, count] of Object.entries(files.emulator?.faults.fired() ?? {})) {
      fired[name] = (fired[name] ?? 0) + count;
    }
    expect(fired).toMatchObject({
      'http-error': expect.any(Number),
      'upload-no-file': expect.any(Number),
      'upload-not-final': expect.any(Number),
      'refuse-mime-type': expect.any(Number),
    });
  });
});
