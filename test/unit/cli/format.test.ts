import { describe, expect, it } from 'vitest';
import {
  estimateLeft,
  formatBytes,
  formatCost,
  formatDuration,
  progressBar,
  RUN_EXIT_CODES,
  table,
} from '../../../cli/format.js';
import { submitMetadata } from '../../../cli/submit.js';

const cost = (total: number, unpricedModels: string[] = []) =>
  ({ total, unpricedModels }) as unknown as Parameters<typeof formatCost>[0];

describe('progressBar', () => {
  it('fills the share done of 24 cells and shows the whole percent', () => {
    expect(progressBar(3, 8)).toBe('[#########---------------]  37%');
    expect(progressBar(8, 8)).toBe('[########################] 100%');
  });

  it('shows no fill and a question mark while the total is unknown', () => {
    expect(progressBar(0, undefined)).toBe('[------------------------]    ?');
  });

  it('never overflows when more is reported done than the total', () => {
    expect(progressBar(12, 8)).toBe('[########################] 100%');
  });
});

describe('formatDuration and formatBytes', () => {
  it('says seconds, minutes with seconds, hours with minutes', () => {
    expect([formatDuration(45_400), formatDuration(185_000), formatDuration(7_620_000)]).toEqual([
      '45s',
      '3m05s',
      '2h07m',
    ]);
  });

  it('says bytes in binary units', () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(5 * 1024 ** 3)]).toEqual([
      '512 B',
      '1.5 KiB',
      '5.0 GiB',
    ]);
  });
});

describe('estimateLeft', () => {
  it('gives no estimate before Gemini reports a finished request', () => {
    expect(estimateLeft(0, 100, 60_000)).toBe('no estimate until Gemini reports finished requests');
  });

  it('extrapolates the rate so far and says so', () => {
    expect(estimateLeft(25, 100, 60_000)).toBe(
      'about 3m00s left at the rate so far (Gemini reports counts unevenly)',
    );
  });

  it('says when everything is done', () => {
    expect(estimateLeft(100, 100, 60_000)).toBe('all requests done');
  });
});

describe('table', () => {
  it('pads each column to its widest cell and leaves the last one unpadded', () => {
    expect(
      table(
        ['RUN', 'STATUS', 'FILE'],
        [
          ['a', 'SUCCEEDED', 'inputs/x.jsonl'],
          ['bbbb', 'RUNNING', 'y'],
        ],
      ),
    ).toBe(['RUN   STATUS     FILE', 'a     SUCCEEDED  inputs/x.jsonl', 'bbbb  RUNNING    y'].join('\n'));
  });
});

describe('formatCost', () => {
  it('shows four decimals, a tiny cost as under a hundredth of a cent, and unpriced models', () => {
    expect(formatCost(cost(0.01234))).toBe('$0.0123');
    expect(formatCost(cost(0.00001))).toBe('<$0.0001');
    expect(formatCost(cost(0, ['gemini-x']))).toBe('$0.0000 (no price for gemini-x)');
    expect(formatCost(undefined)).toBe('-');
  });
});

describe('exit codes', () => {
  it('are those npm start documents: 0 succeeded, 2 with errors, 1 failed, 3 cancelled', () => {
    expect(RUN_EXIT_CODES).toEqual({ SUCCEEDED: 0, COMPLETED_WITH_ERRORS: 2, FAILED: 1, CANCELLED: 3 });
  });
});

describe('submitMetadata', () => {
  it('names the model and the budget in the metadata the pipeline reads', () => {
    expect(submitMetadata({ model: 'gemini-2.5-flash', maxCostUsd: '0.50' })).toEqual({
      'gemini-model': 'gemini-2.5-flash',
      'gemini-max-cost-usd': '0.5',
    });
  });

  it('refuses a budget that is not a positive number, with the value', () => {
    expect(() => submitMetadata({ maxCostUsd: 'ten' })).toThrow(
      '--max-cost "ten" is not a positive number of US dollars',
    );
    expect(() => submitMetadata({ maxCostUsd: '-1' })).toThrow('--max-cost "-1"');
  });

  it('refuses a model that is not a model id', () => {
    expect(() => submitMetadata({ model: 'Gemini Pro' })).toThrow(
      '--model "Gemini Pro" is not a Gemini model id',
    );
  });
});
