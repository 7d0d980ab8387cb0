import { describe, expect, it } from 'vitest';
import { createInlineRest, FAST_JOBS, FLASH, items, useEmulator, waitForJob } from './emulator-harness.js';

describe('partial responses with the fields system parameter', () => {
  const h = useEmulator({ timing: FAST_JOBS });

  it("reads a job's state without its inline answers", async () => {
    const name = (await createInlineRest(h, 'generate', FLASH, items('fields', 3), 'partial')).name;
    await waitForJob(h.sdk(), h.emulator, name);
    const fields = 'name,done,error,metadata(state,batchStats,displayName,output/responsesFile)';

    const response = await h.rest(`/v1beta/${name}?fields=${encodeURIComponent(fields)}`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      name,
      done: true,
      metadata: {
        '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch',
        state: 'BATCH_STATE_SUCCEEDED',
        batchStats: { requestCount: '3', successfulRequestCount: '3' },
        displayName: 'partial',
        // Selected for its responsesFile, which an inline job has not: the object stays, empty.
        output: {},
      },
    });
  });

  it('selects sub-fields of every item of a listing, and keeps nextPageToken when asked', async () => {
    await createInlineRest(h, 'generate', FLASH, items('listed', 1));
    await createInlineRest(h, 'generate', FLASH, items('listed-too', 1));

    const response = await h.rest(
      `/v1beta/batches?pageSize=1&fields=${encodeURIComponent('operations(name,metadata/state),nextPageToken')}`,
    );

    const body = (await response.json()) as { operations: unknown[]; nextPageToken?: string };
    expect(Object.keys(body).sort()).toEqual(['nextPageToken', 'operations']);
    expect(body.operations).toEqual([
      {
        name: expect.stringMatching(/^batches\//),
        metadata: { '@type': expect.any(String), state: expect.stringMatching(/^BATCH_STATE_/) },
      },
    ]);
  });

  it('works on other reads too, with snake_case names and $fields', async () => {
    const model = await (await h.rest(`/v1beta/models/${FLASH}?$fields=name,input_token_limit`)).json();

    expect(model).toEqual({ name: `models/${FLASH}`, inputTokenLimit: 1_048_576 });
  });

  it('refuses a selection that is not valid partial-response syntax with 400', async () => {
    const response = await h.rest(`/v1beta/batches?fields=${encodeURIComponent('operations(name')}`);

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { status: string } }).error.status).toBe('INVALID_ARGUMENT');
  });
});
