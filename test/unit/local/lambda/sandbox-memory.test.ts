import { describe, expect, it } from 'vitest';
import { highestMemory, sandboxResourceLimits } from '../../../../local/lambda/sandbox-memory.js';

describe('sandboxResourceLimits', () => {
  it("sizes the young generation from the function's --max-semi-space-size and gives the old the rest", () => {
    expect(sandboxResourceLimits(1769, '--enable-source-maps --max-semi-space-size=16')).toEqual({
      maxYoungGenerationSizeMb: 48,
      maxOldGenerationSizeMb: 1721,
    });
  });

  it('reads the flag written with a space too', () => {
    expect(sandboxResourceLimits(512, '--max-semi-space-size 8')).toEqual({
      maxYoungGenerationSizeMb: 24,
      maxOldGenerationSizeMb: 488,
    });
  });

  it('caps the old generation at the memory size when NODE_OPTIONS says nothing of the heap', () => {
    expect(sandboxResourceLimits(128, undefined)).toEqual({ maxOldGenerationSizeMb: 128 });
    expect(sandboxResourceLimits(256, '--enable-source-maps')).toEqual({ maxOldGenerationSizeMb: 256 });
  });
});

describe('highestMemory', () => {
  it('keeps the larger value of each field', () => {
    const first = { usedHeapBytes: 10, committedHeapBytes: 40, externalBytes: 5 };
    const second = { usedHeapBytes: 20, committedHeapBytes: 30, externalBytes: 7 };
    expect(highestMemory(first, second)).toEqual({
      usedHeapBytes: 20,
      committedHeapBytes: 40,
      externalBytes: 7,
    });
    expect(highestMemory(undefined, second)).toEqual(second);
  });
});
