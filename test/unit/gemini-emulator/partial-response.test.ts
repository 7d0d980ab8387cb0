import { describe, expect, it } from 'vitest';
import { GoogleApiError } from '../../../local/gemini-emulator/api-error.js';
import { parseFieldSelection, selectFields } from '../../../local/gemini-emulator/partial-response.js';

const select = (value: unknown, fields: string) => selectFields(value, parseFieldSelection(fields));

const operation = {
  name: 'batches/a',
  done: true,
  metadata: {
    '@type': 'type.googleapis.com/x.Batch',
    state: 'BATCH_STATE_SUCCEEDED',
    batchStats: { requestCount: '2', successfulRequestCount: '2' },
    output: { inlinedResponses: { inlinedResponses: [{ response: {} }] } },
  },
  response: { '@type': 'type.googleapis.com/x.Output', inlinedResponses: {} },
};

describe('partial responses', () => {
  it('keeps only the selected top-level fields', () => {
    expect(select(operation, 'name,done')).toEqual({ name: 'batches/a', done: true });
  });

  it('selects sub-fields with a slash and with parentheses, keeping @type', () => {
    expect(select(operation, 'metadata/state')).toEqual({
      metadata: { '@type': 'type.googleapis.com/x.Batch', state: 'BATCH_STATE_SUCCEEDED' },
    });
    expect(select(operation, 'metadata(state,batchStats/requestCount)')).toEqual({
      metadata: {
        '@type': 'type.googleapis.com/x.Batch',
        state: 'BATCH_STATE_SUCCEEDED',
        batchStats: { requestCount: '2' },
      },
    });
  });

  it('lets a whole field win over parts of it, in either order', () => {
    const whole = { metadata: operation.metadata };
    expect(select(operation, 'metadata/state,metadata')).toEqual(whole);
    expect(select(operation, 'metadata,metadata/state')).toEqual(whole);
  });

  it('applies a selection to every element of a list, and * to every field', () => {
    const listing = { operations: [operation, { ...operation, name: 'batches/b' }], nextPageToken: 't' };
    expect(select(listing, 'operations/name')).toEqual({
      operations: [{ name: 'batches/a' }, { name: 'batches/b' }],
    });
    expect(select({ a: { x: 1, y: { z: 2, w: 3 } } }, 'a/*/z')).toEqual({ a: { x: 1, y: { z: 2 } } });
  });

  it('matches snake_case selections to camelCase fields', () => {
    expect(select(operation, 'metadata/batch_stats/successful_request_count')).toEqual({
      metadata: { '@type': 'type.googleapis.com/x.Batch', batchStats: { successfulRequestCount: '2' } },
    });
  });

  it('leaves out what the value lacks, and an object of which nothing is selected stays empty', () => {
    expect(select(operation, 'error,name')).toEqual({ name: 'batches/a' });
    expect(select(operation, 'response/responsesFile')).toEqual({ response: {} });
  });

  it.each(['', 'name,', 'metadata(state', 'metadata()', 'a//b', 'name)', 'na me'])(
    'refuses the malformed selection %j with 400',
    (fields) => {
      const parse = () => parseFieldSelection(fields);
      expect(parse).toThrow(GoogleApiError);
      expect(parse).toThrow(expect.objectContaining({ httpStatus: 400 }));
    },
  );
});
