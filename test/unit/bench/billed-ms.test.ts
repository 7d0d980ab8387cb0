import { describe, expect, it } from 'vitest';
import { billedMs } from '../../../bench/cost.bench.js';

describe('billedMs', () => {
  it('bills the local time as it is at one vCPU (1769 MB)', () => {
    expect(billedMs(1769, 1000, 400)).toBe(1000);
  });

  it('stretches only the CPU part below one vCPU, by the share of a vCPU the size gets', () => {
    expect(billedMs(1024, 1000, 400)).toBeCloseTo(600 + 400 * (1769 / 1024));
    expect(billedMs(512, 1000, 0)).toBe(1000);
  });

  it('does not shorten a single-threaded function above one vCPU', () => {
    expect(billedMs(3008, 1000, 400)).toBe(1000);
  });

  it('takes no more CPU time than wall time (a sampled thread may read a tick over)', () => {
    expect(billedMs(1024, 100, 110)).toBeCloseTo(100 * (1769 / 1024));
  });
});
