/**
 * Contract tests for an OpenAI-compatible batch's life through the real `openai` SDK: its states on
 * the emulator clock, cancel, the same job seen natively, metadata, and listing.
 */
import { BadRequestError } from 'openai';
import { describe, expect, it } from 'vitest';
import { HOUR_MS, rawBatch, useEmulator } from './emulator-harness.js';
import {
  CANCELLING_MS,
  chatLine,
  createBatch,
  openAi,
  PENDING_MS,
  RUNNING_MS,
  TIMING,
  uploadLines,
  waitForBatch,
} from './openai-harness.js';

describe('OpenAI-compatible batch states', () => {
  const h = useEmulator({ timing: TIMING });

  it('reports validating, then in_progress, then completed as the emulator clock moves', async () => {
    const oai = openAi(h);
    const created = await createBatch(h, oai, [chatLine('states-1', 'states')]);

    for (let poll = 0; poll < 5; poll++) {
      expect((await oai.batches.retrieve(created.id)).status).toBe('validating');
    }
    h.emulator.clock.advance(PENDING_MS);
    expect((await oai.batches.retrieve(created.id)).status).toBe('in_progress');
    const done = await waitForBatch(h, oai, created.id, RUNNING_MS);
    expect(done.status).toBe('completed');
  });

  it('reports a job that ends FAILED as failed, with the reason in errors', async () => {
    const oai = openAi(h);
    h.emulator.faults.add({ kind: 'job-outcome', outcome: 'FAILED', errorMessage: 'quota ran dry' });
    const created = await createBatch(h, oai, [chatLine('fail-1', 'doomed')]);

    const done = await waitForBatch(h, oai, created.id);

    expect(done.status).toBe('failed');
    expect(done.failed_at).toBeGreaterThanOrEqual(done.created_at);
    expect(done.output_file_id).toBeNull();
    expect(done.errors?.data?.[0]).toMatchObject({ code: 'INTERNAL', message: 'quota ran dry' });
  });

  it('reports a job that ends EXPIRED as expired, without output', async () => {
    const oai = openAi(h);
    h.emulator.faults.add({ kind: 'job-outcome', outcome: 'EXPIRED' });
    const created = await createBatch(h, oai, [chatLine('expire-1', 'too late')]);

    const done = await waitForBatch(h, oai, created.id);

    expect(done.status).toBe('expired');
    expect(done.expired_at).toBeGreaterThanOrEqual(done.created_at);
    expect(done.output_file_id).toBeNull();
  });

  it('expires a job held pending for 48 hours without it ever being in progress', async () => {
    const oai = openAi(h);
    h.emulator.faults.add({ kind: 'job-outcome', outcome: 'STUCK_PENDING' });
    const created = await createBatch(h, oai, [chatLine('stuck-1', 'waiting')]);

    h.emulator.clock.advance(47 * HOUR_MS);
    expect((await oai.batches.retrieve(created.id)).status).toBe('validating');
    h.emulator.clock.advance(HOUR_MS);
    const expired = await oai.batches.retrieve(created.id);

    expect(expired.status).toBe('expired');
    expect(expired.expired_at).toBe(expired.expires_at);
    expect(expired).not.toHaveProperty('in_progress_at');
  });

  it('cancels a running batch: cancelling at once, cancelled once the clock moves', async () => {
    const oai = openAi(h);
    const created = await createBatch(h, oai, [chatLine('cancel-1', 'stop me')]);
    h.emulator.clock.advance(PENDING_MS);
    expect((await oai.batches.retrieve(created.id)).status).toBe('in_progress');

    const cancelling = await oai.batches.cancel(created.id);

    expect(cancelling.status).toBe('cancelling');
    expect(cancelling.cancelling_at).toBeGreaterThanOrEqual(cancelling.created_at);
    expect((await oai.batches.retrieve(created.id)).status).toBe('cancelling');
    h.emulator.clock.advance(CANCELLING_MS);
    const cancelled = await oai.batches.retrieve(created.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.cancelled_at).toBeGreaterThanOrEqual(cancelled.cancelling_at ?? 0);
    expect(cancelled.output_file_id).toBeNull();
  });

  it('refuses to cancel a batch that has already completed', async () => {
    const oai = openAi(h);
    const created = await createBatch(h, oai, [chatLine('late-cancel', 'already done')]);
    await waitForBatch(h, oai, created.id);

    await expect(oai.batches.cancel(created.id)).rejects.toThrow(BadRequestError);
  });

  it('serves a compat-created batch natively as the same resource', async () => {
    const oai = openAi(h);
    const created = await createBatch(h, oai, [chatLine('native-1', 'one resource')]);

    const native = await rawBatch(h, created.id);
    expect(native.name).toBe(created.id);
    expect(native.metadata).toMatchObject({
      '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch',
      model: 'models/gemini-2.5-flash',
      inputConfig: { fileName: created.input_file_id },
      state: 'BATCH_STATE_PENDING',
    });
    const done = await waitForBatch(h, oai, created.id);
    const sdkView = await h.sdk('v1beta').batches.get({ name: created.id });
    expect(sdkView.state).toBe('JOB_STATE_SUCCEEDED');
    expect(sdkView.dest?.fileName).toBe(done.output_file_id);
  });

  it('sees a native cancel through the compatibility layer', async () => {
    const oai = openAi(h);
    const created = await createBatch(h, oai, [chatLine('native-cancel', 'cancel natively')]);

    await h.sdk('v1beta').batches.cancel({ name: created.id });

    expect((await rawBatch(h, created.id)).metadata.state).toBe('BATCH_STATE_CANCELLED');
    expect((await oai.batches.retrieve(created.id)).status).toBe('cancelling');
    h.emulator.clock.advance(CANCELLING_MS);
    expect((await oai.batches.retrieve(created.id)).status).toBe('cancelled');
  });

  it('echoes metadata given at creation', async () => {
    const oai = openAi(h);
    const inputFileId = await uploadLines(h, 'metadata.jsonl', [chatLine('meta-1', 'tagged')]);

    const created = await oai.batches.create({
      input_file_id: inputFileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { run: 'r-42' },
    });

    expect(created.metadata).toEqual({ run: 'r-42' });
    expect((await oai.batches.retrieve(created.id)).metadata).toEqual({ run: 'r-42' });
  });
});

describe('OpenAI-compatible batch listing', () => {
  const h = useEmulator({ timing: TIMING });

  it('lists batches newest first across pages, following after= cursors to the end', async () => {
    const oai = openAi(h);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await createBatch(h, oai, [chatLine(`list-${i}`, `list ${i}`)])).id);

    const first = await oai.batches.list({ limit: 2 });
    expect(first.data.map((batch) => batch.id)).toEqual([ids[2], ids[1]]);
    expect(first.has_more).toBe(true);
    const listed: string[] = [];
    for await (const batch of oai.batches.list({ limit: 2 })) listed.push(batch.id);

    expect(listed).toEqual([...ids].reverse());
    const raw = (await oai.get('/batches', { query: { limit: 2, after: ids[1] } })) as Record<
      string,
      unknown
    >;
    expect(raw).toMatchObject({ object: 'list', first_id: ids[0], last_id: ids[0], has_more: false });
  });
});
