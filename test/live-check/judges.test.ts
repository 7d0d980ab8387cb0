import { describe, expect, it } from 'vitest';
import type { RestAnswer } from '../../local/live-check/client.js';
import { Findings } from '../../local/live-check/findings.js';
import {
  judgeCreated,
  judgeFields,
  judgeKeys,
  judgeListCounts,
  judgeMisspelledCreate,
  judgeQuota,
  judgeRefusal,
  judgeStatesAndStats,
} from '../../local/live-check/judges.js';

const answer = (status: number, body: unknown): RestAnswer => ({ status, body, text: JSON.stringify(body) });

describe('judgeKeys', () => {
  const sent = ['a', 'b', 'c'];

  it('confirms keys that all came back, and says whether in order', () => {
    expect(judgeKeys(sent, ['a', 'b', 'c'], 'lines')).toEqual({
      verdict: 'confirmed',
      evidence: '3 of 3 lines keyed, in order',
    });
    expect(judgeKeys(sent, ['c', 'a', 'b'], 'lines')).toEqual({
      verdict: 'confirmed',
      evidence: '3 of 3 lines keyed, reordered',
    });
  });

  it('contradicts answers without a key, with keys nobody sent, or with a key twice', () => {
    expect(judgeKeys(sent, ['a', undefined, 'c'], 'answers')).toEqual({
      verdict: 'contradicted',
      evidence: '1 of 3 answers without a key',
    });
    expect(judgeKeys(sent, ['a', 'b', 'x'], 'lines').evidence).toBe('unknown keys x, no line for c');
    expect(judgeKeys(sent, ['a', 'a', 'b', 'c'], 'lines').evidence).toBe('repeated keys a');
  });
});

describe('judgeFields', () => {
  const full = {
    name: 'batches/x',
    done: true,
    metadata: { '@type': 't', state: 'BATCH_STATE_SUCCEEDED', batchStats: { requestCount: '3' }, model: 'm' },
    response: { inlinedResponses: { inlinedResponses: [] } },
  };
  const paths = ['name', 'done', 'metadata.state', 'metadata.batchStats'];
  const mask = 'name,done,metadata(state,batchStats)';

  it('confirms an answer with exactly the fields asked for (and the @type of an Any)', () => {
    const partial = {
      name: 'batches/x',
      done: true,
      metadata: { '@type': 't', state: 'S', batchStats: { requestCount: '3' } },
    };
    expect(judgeFields(mask, paths, full, answer(200, partial))).toMatchObject({ verdict: 'confirmed' });
  });

  it('contradicts an answer that ignored the mask', () => {
    expect(judgeFields(mask, paths, full, answer(200, full))).toEqual({
      verdict: 'contradicted',
      evidence: `fields=${mask}: still sent metadata.model, response.inlinedResponses`,
    });
  });

  it('contradicts an answer that left out a field asked for', () => {
    // What a dotted mask (`metadata.state`) gets where `/` and `(…)` are the syntax: the name only.
    const verdict = judgeFields(
      'name,metadata.state',
      ['name', 'metadata.state'],
      full,
      answer(200, { name: 'batches/x' }),
    );
    expect(verdict).toEqual({
      verdict: 'contradicted',
      evidence: 'fields=name,metadata.state: left out metadata.state, which was asked for',
    });
  });

  it('contradicts a refusal of the mask', () => {
    const refused = answer(400, {
      error: { code: 400, message: 'Invalid field selector', status: 'INVALID_ARGUMENT' },
    });
    expect(judgeFields(mask, paths, full, refused).evidence).toBe(
      `fields=${mask}: HTTP 400: Invalid field selector`,
    );
  });
});

describe('judgeQuota', () => {
  it("confirms Google's RESOURCE_EXHAUSTED body and names its details", () => {
    const body = {
      error: {
        code: 429,
        message: 'You exceeded…',
        status: 'RESOURCE_EXHAUSTED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo' }],
      },
    };
    expect(judgeQuota({ status: 429, body, message: 'You exceeded…' }, 'batches.list')).toEqual({
      verdict: 'confirmed',
      evidence: 'on batches.list: 429 RESOURCE_EXHAUSTED, details google.rpc.RetryInfo',
    });
  });

  it('contradicts a 429 in another shape, such as a list-wrapped error', () => {
    const body = [{ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } }];
    expect(judgeQuota({ status: 429, body, message: '' }, 'batches.create')).toMatchObject({
      verdict: 'contradicted',
    });
  });
});

describe('judgeMisspelledCreate', () => {
  it("confirms Google's Unknown name refusal", () => {
    const refusal = answer(400, {
      error: {
        code: 400,
        status: 'INVALID_ARGUMENT',
        message:
          'Invalid JSON payload received. Unknown name "generationConfg" at \'batch…\': Cannot find field.',
      },
    });
    expect(judgeMisspelledCreate(refusal)).toEqual({
      verdict: 'confirmed',
      evidence: 'HTTP 400 Unknown name "generationConfg"',
    });
  });

  it('contradicts an accepted create, and a refusal for another reason', () => {
    expect(judgeMisspelledCreate(answer(200, { name: 'batches/x' }))).toEqual({
      verdict: 'contradicted',
      evidence: 'accepted: created batches/x',
    });
    expect(judgeMisspelledCreate(answer(404, { error: { message: 'models/x is not found' } })).verdict).toBe(
      'contradicted',
    );
  });
});

describe('judgeStatesAndStats and judgeListCounts', () => {
  it('contradicts SDK-style state names and counts sent as numbers', () => {
    expect(judgeStatesAndStats(['JOB_STATE_RUNNING'], [{ requestCount: '3' }]).verdict).toBe('contradicted');
    expect(judgeStatesAndStats(['BATCH_STATE_RUNNING'], [{ requestCount: 3 }])).toEqual({
      verdict: 'contradicted',
      evidence: 'requestCount = 3',
    });
  });

  it('contradicts a finished job whose GET still counts requests as pending', () => {
    const stale = {
      metadata: {
        state: 'BATCH_STATE_SUCCEEDED',
        batchStats: { requestCount: '3', pendingRequestCount: '3' },
      },
    };
    expect(judgeListCounts('inline-generate', stale, undefined)).toEqual({
      verdict: 'contradicted',
      evidence: 'inline-generate BATCH_STATE_SUCCEEDED: GET counts 0+0 of 3, 3 pending',
    });
  });
});

describe('judgeRefusal', () => {
  it('says not seen when the service was busy, and contradicted otherwise', () => {
    expect(judgeRefusal({ status: 503, message: 'overloaded' }, 'upload')).toEqual({
      verdict: 'not seen',
      evidence: 'upload: HTTP 503: overloaded (busy)',
    });
    expect(judgeRefusal({ status: 429, message: 'quota' }).verdict).toBe('not seen');
    expect(judgeRefusal({ status: 404, message: 'not found' })).toEqual({
      verdict: 'contradicted',
      evidence: 'HTTP 404: not found',
    });
  });
});

describe('judgeCreated', () => {
  it('wants a batches/… name', () => {
    expect(judgeCreated('batches/abc', 'REST').verdict).toBe('confirmed');
    expect(judgeCreated('operations/abc', 'REST').verdict).toBe('contradicted');
    expect(judgeCreated(undefined, 'REST').verdict).toBe('contradicted');
  });
});

describe('Findings', () => {
  it('lets one contradiction outweigh any confirmations, and puts its evidence first', () => {
    const findings = new Findings();
    findings.confirm('upload-jsonl-mime', 'first upload accepted');
    findings.contradict('upload-jsonl-mime', 'second upload refused');
    expect(findings.result('upload-jsonl-mime')).toEqual({
      verdict: 'contradicted',
      evidence: 'second upload refused; first upload accepted',
    });
  });

  it('says not seen for an assumption no probe reached', () => {
    expect(new Findings().result('cancel')).toEqual({
      verdict: 'not seen',
      evidence: 'no probe got this far',
    });
  });
});
