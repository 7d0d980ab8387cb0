import { describe, expect, it } from 'vitest';
import { ASSUMPTION_IDS, type AssumptionId } from '../../local/live-check/assumptions.js';
import type { Verdict } from '../../local/live-check/findings.js';
import { checkAgainstEmulator, row, verdicts } from './helpers.js';

/** Only a fault makes the emulator answer 429, so a plain run cannot show its shape. */
const NOT_SHOWN_BY_THE_EMULATOR: readonly AssumptionId[] = ['quota-shape'];

const expected = (overrides: Partial<Record<AssumptionId, Verdict>>) =>
  Object.fromEntries(
    ASSUMPTION_IDS.map((id) => [
      id,
      overrides[id] ?? (NOT_SHOWN_BY_THE_EMULATOR.includes(id) ? 'not seen' : 'confirmed'),
    ]),
  );

describe('the live check against the emulator', () => {
  it('confirms every assumption the emulator shows, and cleans up everything it made', async () => {
    const { report, left } = await checkAgainstEmulator();

    expect(verdicts(report)).toEqual(expected({}));
    expect(row(report, 'quota-shape').evidence).toBe('no 429 met');
    expect(report.stoppedEarly).toBeUndefined();
    expect(report.cleanup.left).toEqual([]);
    expect(left).toEqual({ batches: [], files: [] });
  });

  it('reports reordered answers and stale listings as evidence, not as contradictions', async () => {
    const { report } = await checkAgainstEmulator();

    expect(row(report, 'file-lines-keyed').evidence).toContain('reordered');
    expect(row(report, 'inline-generate-keyed').evidence).toContain('reordered');
    expect(row(report, 'list-counts').evidence).toContain('list stale');
  });

  it('says which usage field embedding answers carry, per model', async () => {
    const { report } = await checkAgainstEmulator(
      {},
      { models: { generate: 'gemini-2.5-flash-lite', embed: 'gemini-embedding-2' } },
    );

    expect(row(report, 'embed-usage')).toMatchObject({ verdict: 'confirmed' });
    expect(row(report, 'embed-usage').evidence).toContain('usageMetadata');
    expect(row(report, 'embed-usage').evidence).not.toContain('tokenCount');
  });

  it('reports the shape of a 429 when it meets one, and carries on', async () => {
    const { report, left } = await checkAgainstEmulator({}, {}, (emulator) =>
      emulator.faults.add({ kind: 'http-error', endpoint: 'batches.get', status: 429, times: 1 }),
    );

    expect(verdicts(report)).toEqual(expected({ 'quota-shape': 'confirmed' }));
    expect(row(report, 'quota-shape').evidence).toBe(
      'on batches.get: 429 RESOURCE_EXHAUSTED, details google.rpc.Help',
    );
    expect(left).toEqual({ batches: [], files: [] });
  });

  it('contradicts the upload row when the final answer carries no file, and finds the upload by name', async () => {
    const { report, left } = await checkAgainstEmulator({}, {}, (emulator) =>
      emulator.faults.add({ kind: 'upload-no-file', times: 1 }),
    );

    expect(verdicts(report)).toEqual(expected({ 'upload-answer-has-file': 'contradicted' }));
    expect(row(report, 'upload-answer-has-file').evidence).toMatch(
      /^HTTP 200 without file \(application\/jsonl upload\)/,
    );
    // The file job ran on the upload found by its display name, and that upload was deleted too.
    expect(row(report, 'file-output').evidence).toContain('file-generate: files/batch-');
    expect(left).toEqual({ batches: [], files: [] });
  });

  it('contradicts the inline key rows when answers come back without their keys', async () => {
    const { report } = await checkAgainstEmulator({ roughness: { inlineMetadataDropRate: 1 } });

    expect(verdicts(report)).toEqual(
      expected({ 'inline-generate-keyed': 'contradicted', 'inline-embed-keyed': 'contradicted' }),
    );
    expect(row(report, 'inline-embed-keyed').evidence).toBe('3 of 3 answers without a key');
  });

  it('contradicts application/jsonl when it is refused, and runs the file jobs on the application/json upload', async () => {
    const { report, left } = await checkAgainstEmulator({
      roughness: { refusedMimeTypes: ['jsonl', 'application/jsonl'] },
    });

    expect(verdicts(report)).toEqual(expected({ 'upload-jsonl-mime': 'contradicted' }));
    expect(row(report, 'upload-jsonl-mime').evidence).toContain('Unsupported MIME type: application/jsonl');
    expect(left).toEqual({ batches: [], files: [] });
  });

  it('does not count a busy answer (503) against an assumption', async () => {
    const { report, left } = await checkAgainstEmulator({}, {}, (emulator) =>
      emulator.faults.add({ kind: 'http-error', endpoint: 'batches.create', status: 503, times: 1 }),
    );

    // The first create is the file generate job's; the embedding file job still shows the file rows.
    expect(verdicts(report)).toEqual(expected({ 'create-file-generate': 'not seen' }));
    expect(row(report, 'create-file-generate').evidence).toMatch(/^HTTP 503: .* \(busy\)$/);
    expect(left).toEqual({ batches: [], files: [] });
  });

  it('contradicts the Models API and create rows for a model Gemini does not have, and checks the rest', async () => {
    const { report, left } = await checkAgainstEmulator(
      {},
      { models: { generate: 'gemini-2.5-flash-lite', embed: 'no-such-embedding' } },
    );

    expect(verdicts(report)).toEqual(
      expected({
        'models-api': 'contradicted',
        'create-file-embed': 'contradicted',
        'create-inline-embed': 'contradicted',
        'inline-embed-keyed': 'not seen',
        'embed-usage': 'not seen',
      }),
    );
    expect(row(report, 'models-api').evidence).toContain('models/no-such-embedding: HTTP 404');
    expect(row(report, 'inline-embed-keyed').evidence).toBe('inline-embed: no job was created');
    expect(left).toEqual({ batches: [], files: [] });
  });

  it('cancels jobs still running at the timeout and says their rows were not seen', async () => {
    const { report, left } = await checkAgainstEmulator(
      { timing: { pendingMs: 60 * 60 * 1000 } },
      { timeoutMs: 0 },
    );

    for (const id of [
      'file-output',
      'file-lines-keyed',
      'inline-generate-keyed',
      'inline-answers-twice',
    ] as const) {
      expect(row(report, id)).toMatchObject({ verdict: 'not seen' });
      expect(row(report, id).evidence).toContain('still PENDING at the timeout; cancelled');
    }
    expect(report.stoppedEarly).toBeUndefined();
    expect(left).toEqual({ batches: [], files: [] });
  });

  it('stops when interrupted and still deletes what it made', async () => {
    const controller = new AbortController();
    const { report, left } = await checkAgainstEmulator(
      { timing: { pendingMs: 60 * 60 * 1000 } },
      {
        signal: controller.signal,
        // Interrupted while it waits for the jobs, as a Ctrl-C would most likely find it.
        log: (line) => {
          if (line.startsWith('waiting')) controller.abort();
        },
      },
    );

    expect(report.stoppedEarly).toEqual({ reason: 'interrupted', message: 'the check was interrupted' });
    expect(row(report, 'create-inline-generate')).toMatchObject({ verdict: 'confirmed' });
    expect(row(report, 'file-output')).toMatchObject({
      verdict: 'not seen',
      evidence: 'no probe got this far',
    });
    expect(row(report, 'delete')).toMatchObject({ verdict: 'confirmed' });
    expect(left).toEqual({ batches: [], files: [] });
  });

  it('stops on an error it cannot ride out, says so, and still deletes what it made', async () => {
    // Four dropped GETs in a row: the first try and all three retries of one read.
    const { report, left } = await checkAgainstEmulator({}, {}, (emulator) =>
      emulator.faults.add({ kind: 'drop-connection', endpoint: 'batches.get', times: 4 }),
    );

    expect(report.stoppedEarly).toEqual({
      reason: 'error',
      message: 'the check stopped on an error: fetch failed',
    });
    expect(row(report, 'get-state-stats')).toMatchObject({ verdict: 'not seen' });
    expect(left).toEqual({ batches: [], files: [] });
  });
});
