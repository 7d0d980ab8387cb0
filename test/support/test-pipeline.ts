import { inject } from 'vitest';
import type { RunState } from '../../lambdas/shared/run/state-payloads.js';
import {
  type LocalPipeline,
  type LocalPipelineOptions,
  startLocalPipeline,
  type TaskHandler,
} from '../../local/local-pipeline.js';

/**
 * The local pipeline on the code under test: the functions' bundles in the `bundled` project (what
 * deploys), their source in the `source` project.
 */
export function startTestPipeline(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
  const assemblyDir = inject('cloudAssemblyDir');
  return startLocalPipeline({ ...options, code: assemblyDir ? 'bundled' : 'source', assemblyDir });
}

/** A change to one Task's input or surroundings, given the input and the function it would call. */
export type TaskHook = (input: RunState, handler: TaskHandler) => Promise<unknown>;

/**
 * One-shot hooks into Tasks: a test sets a hook for a state, and the next invocation of that state
 * runs it instead of the function (once), e.g. to crash Submit after it created its jobs or to
 * hold Prepare while the input is overwritten. Pass `wrapTask` to the pipeline.
 */
export function oneShotTaskHooks(): {
  readonly hooks: Map<string, TaskHook>;
  readonly wrapTask: NonNullable<LocalPipelineOptions['wrapTask']>;
} {
  const hooks = new Map<string, TaskHook>();
  return {
    hooks,
    wrapTask: (state, handler) => async (input) => {
      const hook = hooks.get(state);
      if (!hook) return handler(input);
      hooks.delete(state);
      return hook(input, handler);
    },
  };
}
