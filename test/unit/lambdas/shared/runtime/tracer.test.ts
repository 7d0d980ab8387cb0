import { afterEach, describe, expect, it, vi } from 'vitest';
import { tracedPort, tracer } from '../../../../../lambdas/shared/runtime/tracer.js';

/** A port double: one method that answers, one that throws. */
const port = {
  calls: 0,
  async getBatch(name: string) {
    this.calls += 1;
    return { name, state: 'BATCH_STATE_RUNNING' };
  },
  async cancelBatch(_name: string): Promise<void> {
    throw new Error('403: not yours');
  },
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('tracedPort', () => {
  it('gives the port itself back outside Lambda, where Tracer is off', () => {
    expect(tracer.isTracingEnabled()).toBe(false);
    expect(tracedPort('Gemini', port)).toBe(port);
  });

  it('opens and closes one subsegment per call, named for the port and method, errors included', async () => {
    vi.spyOn(tracer, 'isTracingEnabled').mockReturnValue(true);
    const opened: { name: string; closed: boolean }[] = [];
    vi.spyOn(tracer.provider, 'captureAsyncFunc').mockImplementation(((
      name: string,
      fcn: (subsegment: { close: () => void }) => unknown,
    ) => {
      const segment = { name, closed: false };
      opened.push(segment);
      return fcn({ close: () => (segment.closed = true) });
    }) as never);
    const addError = vi.spyOn(tracer, 'addErrorAsMetadata').mockImplementation(() => undefined);

    const traced = tracedPort('Gemini', port);
    await expect(traced.getBatch('batches/1')).resolves.toEqual({
      name: 'batches/1',
      state: 'BATCH_STATE_RUNNING',
    });
    await expect(traced.cancelBatch('batches/1')).rejects.toThrow('403: not yours');

    expect(port.calls).toBe(1);
    expect(opened).toEqual([
      { name: 'Gemini.getBatch', closed: true },
      { name: 'Gemini.cancelBatch', closed: true },
    ]);
    expect(addError).toHaveBeenCalledWith(new Error('403: not yours'));
  });
});
