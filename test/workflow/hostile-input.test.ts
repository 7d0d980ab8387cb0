/**
 * Hostile input, end to end on the synthesized state machine: no single line can fail a run, a
 * file in an encoding the pipeline cannot read fails with one reason saying what to do, old Mac
 * line endings are line breaks, and a run reads only the upload that started it, however soon the
 * file is replaced.
 */
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../local/local-pipeline.js';
import { generateLine } from '../support/request-lines.js';
import { oneShotTaskHooks, startTestPipeline } from '../support/test-pipeline.js';

let pipeline: LocalPipeline;
/** Per-test hooks into a Task, set by a test and cleared after it runs once. */
const { hooks: taskHooks, wrapTask } = oneShotTaskHooks();

beforeAll(async () => {
  pipeline = await startTestPipeline({
    emulator: { timing: { pendingMs: 20, runningMs: 50 } },
    pollWaitMs: 20,
    wrapTask,
  });
});

afterAll(async () => {
  await pipeline?.close();
});

/** A request whose function-call arguments nest `levels` arrays deep: valid JSON, and hostile. */
const deepLine = (key: string, levels: number) =>
  `{"key":"${key}","request":{"contents":[{"role":"user","parts":[{"functionCall":{"name":"f","args":{"a":${'['.repeat(levels)}${']'.repeat(levels)}}}}]}]}}`;

const parseLines = (text: string | undefined) =>
  (text ?? '')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

let uploads = 0;
/** Uploads `body` as a new input file and waits for the run it starts. */
async function runBody(body: string | Uint8Array, name = `hostile-${++uploads}`) {
  const { delivery } = await pipeline.upload(`${pipeline.inputPrefix}${name}.jsonl`, body);
  expect(delivery.matched).toBe(true);
  return outcomeOf(name, delivery.runId ?? '');
}

async function outcomeOf(name: string, runId: string) {
  const outcome = await pipeline.waitForRun(runId);
  const root = `results/${name}/${outcome.runId}/`;
  return {
    ...outcome,
    results: parseLines(await pipeline.readObject(`${root}results.jsonl`)),
    rejected: parseLines(await pipeline.readObject(`${root}rejected.jsonl`)),
  };
}

describe('hostile input', () => {
  it('rejects a line nested 10,000 levels deep with its line number and answers every other key', async () => {
    const run = await runBody(
      [
        generateLine('before', 'one'),
        deepLine('deep', 10_000),
        generateLine('after', 'two'),
        deepLine('shallow-enough', 20),
      ].join('\n'),
    );

    expect(run.execution).toBe('SUCCEEDED');
    expect(run.manifest.status).toBe('COMPLETED_WITH_ERRORS');
    expect(run.rejected).toEqual([
      {
        line: 2,
        reason: expect.stringMatching(/^JSON nested deeper than 95 levels/),
        excerpt: expect.stringMatching(/^\{"key":"deep"/),
      },
    ]);
    expect(run.results.map((line) => [line.key, line.response !== undefined])).toEqual([
      ['before', true],
      ['after', true],
      ['shallow-enough', true],
    ]);
    expect(run.manifest.counts).toMatchObject({ lines: 4, accepted: 3, rejected: 1, succeeded: 3 });
  });

  it('rejects a line whose text holds a lone surrogate, and answers the rest', async () => {
    const run = await runBody(
      [
        generateLine('fine', 'plain'),
        '{"key":"lone","request":{"contents":[{"parts":[{"text":"half an emoji: \\ud83d"}]}]}}',
        '{"key":"pair","request":{"contents":[{"parts":[{"text":"a whole one: \\ud83d\\ude00"}]}]}}',
      ].join('\n'),
    );

    expect(run.rejected).toEqual([
      { line: 2, reason: expect.stringContaining('lone UTF-16 surrogate'), excerpt: expect.any(String) },
    ]);
    expect(run.results.map((line) => line.key)).toEqual(['fine', 'pair']);
    expect(run.results.every((line) => line.response !== undefined)).toBe(true);
  });

  it.each([
    ['gzip-compressed', () => gzipSync(`${generateLine('g', 'zipped')}\n`), /is gzip-compressed/],
    [
      'UTF-16 with a byte order mark',
      () => Buffer.from(`\uFEFF${generateLine('u', 'wide')}\n`, 'utf16le'),
      /is UTF-16 \(little-endian\) text/,
    ],
    [
      'UTF-16 without one',
      () => Buffer.from(`${generateLine('u', 'wide')}\n${generateLine('v', 'wider')}\n`, 'utf16le'),
      /is UTF-16 \(little-endian\) text/,
    ],
  ])('fails a %s file with one reason naming the encoding and what to do', async (_, body, named) => {
    const run = await runBody(body());

    expect(run.execution).toBe('FAILED');
    expect(run.manifest.status).toBe('FAILED');
    expect(run.manifest.reason).toMatch(/^InputValidationError: s3:\/\/\S+ /);
    expect(run.manifest.reason).toMatch(named);
    expect(run.manifest.reason).toContain('upload');
    expect(run.manifest.reason).toContain('nothing was sent to Gemini');
    expect(run.rejected).toEqual([]);
    expect(run.manifest.counts).toMatchObject({ lines: 0, rejected: 0, succeeded: 0 });
  });

  it('reads a file with old Mac line endings (CR alone) line by line, answering every line', async () => {
    const run = await runBody(
      [generateLine('m1', 'one'), generateLine('m2', 'two'), '', generateLine('m3', 'three')].join('\r'),
    );

    expect(run.manifest.status).toBe('SUCCEEDED');
    expect(run.manifest.counts).toMatchObject({ lines: 3, accepted: 3, succeeded: 3 });
    expect(run.results.map((line) => line.key)).toEqual(['m1', 'm2', 'm3']);
  });

  it('numbers lines right when CR, LF and CRLF endings are mixed', async () => {
    const run = await runBody(
      `${generateLine('a', 'one')}\r${generateLine('b', 'two')}\r\n{broken\n${generateLine('c', 'three')}\r\r\nnot json\n`,
    );

    expect(run.rejected.map((entry) => entry.line)).toEqual([3, 6]);
    expect(run.results.map((line) => line.key)).toEqual(['a', 'b', 'c']);
  });

  it('fails a run whose file was replaced before Prepare read it, and runs the new upload on its own', async () => {
    const name = 'replaced';
    const key = `${pipeline.inputPrefix}${name}.jsonl`;
    let second: Promise<{ runId?: string }> | undefined;
    taskHooks.set('Prepare Requests', async (input, handler) => {
      // The user uploads again while the first run waits to read the file.
      await pipeline.s3.send(
        new PutObjectCommand({
          Bucket: pipeline.bucket,
          Key: key,
          Body: `${generateLine('new-1', 'replacement')}\n${generateLine('new-2', 'replacement')}\n`,
        }),
      );
      second = pipeline.notify(key).then(({ delivery }) => delivery);
      await second;
      return handler(input);
    });
    const { delivery } = await pipeline.upload(key, `${generateLine('old', 'original')}\n`);
    const first = await outcomeOf(name, delivery.runId ?? '');
    const secondRunId = (await second)?.runId ?? '';
    const replacement = await outcomeOf(name, secondRunId);

    expect(first.execution).toBe('FAILED');
    expect(first.manifest.status).toBe('FAILED');
    expect(first.manifest.reason).toMatch(
      /^InputValidationError: s3:\/\/\S+\/inputs\/replaced\.jsonl was replaced after this run started/,
    );
    expect(first.manifest.reason).toContain('the new upload starts its own run');
    expect(first.results).toEqual([]);
    expect(first.manifest.counts).toMatchObject({ lines: 0, accepted: 0 });

    expect(secondRunId).not.toBe(first.runId);
    expect(replacement.manifest.status).toBe('SUCCEEDED');
    expect(replacement.results.map((line) => line.key)).toEqual(['new-1', 'new-2']);
  });
});
