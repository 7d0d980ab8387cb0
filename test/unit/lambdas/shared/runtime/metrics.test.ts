import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { taskHandler } from '../../../../../lambdas/shared/runtime/lambda-handler.js';
import { METRICS_NAMESPACE } from '../../../../../lambdas/shared/runtime/metric-names.js';
import { runMetrics } from '../../../../../lambdas/shared/runtime/metrics.js';

/** One EMF document as Powertools writes it: CloudWatch reads the metrics out of `_aws`. */
interface EmfLine {
  readonly _aws: {
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [field: string]: unknown;
}

const context = (requestId: string): Context =>
  ({
    functionName: 'finalize-run',
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => 60_000,
  }) as Context;

let emf: EmfLine[];
let warnings: string[];

beforeEach(() => {
  emf = [];
  warnings = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    for (const text of String(chunk).split('\n').filter(Boolean)) {
      const line = JSON.parse(text) as Record<string, unknown>;
      if ('_aws' in line) emf.push(line as unknown as EmfLine);
      else if (line.level === 'WARN') warnings.push(String(line.message));
    }
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    warnings.push(String(chunk));
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The metric `name` as CloudWatch would file it: its unit, dimensions and value, from one EMF line. */
function metric(name: string) {
  const lines = emf.filter((line) => line._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name === name));
  expect(lines, `EMF lines carrying ${name}`).toHaveLength(1);
  const line = lines[0] as EmfLine;
  const [directive] = line._aws.CloudWatchMetrics;
  return {
    namespace: directive?.Namespace,
    unit: directive?.Metrics.find((m) => m.Name === name)?.Unit,
    dimensions: directive?.Dimensions,
    value: line[name],
    line,
  };
}

describe('the skeleton with metrics', () => {
  it('flushes what the core added, in the one namespace, with the run id as metadata', async () => {
    const handler = taskHandler('polled batch jobs', async () => {
      runMetrics.add('RequestsCompleted', 7);
      runMetrics.add('RequestsTotal', 10);
      return { allDone: false };
    });

    await handler({ runId: 'run-1' }, context('request-1'));

    expect(metric('RequestsCompleted')).toMatchObject({
      namespace: METRICS_NAMESPACE,
      unit: 'Count',
      dimensions: [['service']],
      value: 7,
    });
    expect(metric('RequestsTotal').value).toBe(10);
    expect(metric('RequestsTotal').line.runId).toBe('run-1');
  });

  it('files a value by its dimension, on a line of its own, with a unit of its own', async () => {
    const handler = taskHandler('finalized run', async () => {
      runMetrics.add('RunsFinished', 1, { status: 'COMPLETED_WITH_ERRORS' });
      runMetrics.add('EstimatedCostUsd', 0.0125, { model: 'gemini-2.5-flash' });
      return { status: 'COMPLETED_WITH_ERRORS' };
    });

    await handler({ runId: 'run-2' }, context('request-2'));

    expect(metric('RunsFinished')).toMatchObject({
      unit: 'Count',
      dimensions: [['service', 'status']],
      value: 1,
      line: { status: 'COMPLETED_WITH_ERRORS', runId: 'run-2' },
    });
    expect(metric('EstimatedCostUsd')).toMatchObject({
      unit: 'None',
      dimensions: [['service', 'model']],
      value: 0.0125,
      line: { model: 'gemini-2.5-flash', runId: 'run-2' },
    });
  });

  it('never makes the run id a dimension', async () => {
    const handler = taskHandler('finalized run', async () => {
      runMetrics.add('RequestsSucceeded', 3, { status: 'SUCCEEDED' });
      runMetrics.add('RequestsTotal', 3);
      return {};
    });

    await handler({ runId: 'run-3' }, context('request-3'));

    expect(emf.length).toBeGreaterThanOrEqual(2);
    for (const line of emf) {
      expect(line.runId).toBe('run-3');
      expect(line._aws.CloudWatchMetrics.flatMap((directive) => directive.Dimensions.flat())).not.toContain(
        'runId',
      );
    }
  });

  it('still flushes the metrics of an invocation that throws, and none of them on the next', async () => {
    const handler = taskHandler('polled batch jobs', async (run: { runId: string }) => {
      if (run.runId === 'run-4') {
        runMetrics.add('RequestsCompleted', 2);
        throw new Error('Gemini went away');
      }
      return {};
    });

    await expect(handler({ runId: 'run-4' }, context('request-4'))).rejects.toThrow('Gemini went away');
    await handler({ runId: 'run-5' }, context('request-5'));

    expect(metric('RequestsCompleted')).toMatchObject({ value: 2, line: { runId: 'run-4' } });
    expect(emf.filter((line) => line.runId === 'run-5')).toEqual([]);
  });

  it('writes no EMF line and no warning for an invocation that added no metric', async () => {
    const handler = taskHandler('collected results', async () => ({ collected: 1 }));

    await handler({ runId: 'run-6' }, context('request-6'));

    expect(
      emf.filter((line) => line._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name !== 'ColdStart')),
    ).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
