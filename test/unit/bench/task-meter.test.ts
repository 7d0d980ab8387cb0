import { describe, expect, it } from 'vitest';
import { cpuMsBetween } from '../../../bench/support/task-meter.js';

describe("a Task's sandbox CPU time", () => {
  it('counts each thread alive at its end from its own start, so a sandbox that ended takes nothing off', () => {
    // Prepare's sandbox (1) ran 900 ms and is reclaimed during Submit; Submit's (2) starts cold.
    const atStart = new Map([['1', 900]]);
    const atEnd = new Map([['2', 350]]);

    expect(cpuMsBetween(atStart, atEnd)).toBe(350);
  });

  it('counts only what a warm sandbox used since the start', () => {
    expect(cpuMsBetween(new Map([['7', 120]]), new Map([['7', 200]]))).toBe(80);
  });
});
